#pragma once
// JobHistory: everything seen of one job (metrics per step, events, spend), kept on disk as it
// arrives, so that a job's charts open at once and survive a restart of the console.
//
// File: <directory>/job-<id>.jsonl, one JSON object per line, appended and flushed as they come:
//   {"m":12,"t":1700000000123,"loss":0.52,"sps":5400,"w":2,"el":0.49,"ea":0.83,"lr":0.001}   a step's metrics
//   {"e":3,"t":...,"s":12,"msg":"local-worker-2 joined"}                       an event (JobEventKind)
//   {"c":1500000,"b":10000000,"t":...,"s":12}                                  spent and budget
// A line that does not parse (the end of a file cut by a crash) is skipped.
#include <QFile>
#include <QString>
#include <cstdint>
#include <optional>
#include <vector>

#include "protocol/raven.pb.h"

namespace raven::console {

struct MetricPoint {
    std::uint64_t step = 0;
    std::int64_t timeMs = 0;
    double trainLoss = 0;
    double samplesPerSecond = 0;
    int workers = 0;
    std::optional<double> evalLoss, evalAccuracy;
    std::optional<double> learningRate;  // the rate the step was taken with (coordinators that say)
};

struct EventPoint {
    std::int64_t timeMs = 0;
    std::uint64_t step = 0;  // the last step seen when it happened
    wire::JobEventKind kind = wire::JOB_EVENT_KIND_UNSPECIFIED;
    QString message;
};

struct SpendPoint {
    std::int64_t timeMs = 0;
    std::uint64_t step = 0;
    std::int64_t spent = 0;  // micro-credits
    std::int64_t budget = 0;
};

class JobHistory {
public:
    // Reads what the file holds (none: empty) and appends to it from now on.
    JobHistory(const QString& directory, const QString& jobId);

    const QString& jobId() const { return jobId_; }
    const std::vector<MetricPoint>& metrics() const { return metrics_; }
    const std::vector<EventPoint>& events() const { return events_; }
    const std::vector<SpendPoint>& spend() const { return spend_; }
    std::uint64_t lastStep() const { return metrics_.empty() ? 0 : metrics_.back().step; }

    // Each returns false (and keeps nothing) for what the history already holds: the coordinator
    // replays its history on every subscription.
    bool add(const wire::MetricsUpdate& update);
    bool add(const wire::JobEvent& event);
    bool addSpend(std::int64_t timeMs, std::int64_t spent, std::int64_t budget);

    // "the history file cannot be written: ..." when the disk refused; empty otherwise.
    const QString& writeProblem() const { return writeProblem_; }

private:
    void load();
    void append(const QByteArray& line);

    QString jobId_;
    QFile file_;
    std::vector<MetricPoint> metrics_;
    std::vector<EventPoint> events_;
    std::vector<SpendPoint> spend_;
    QString writeProblem_;
};

// What an event is, in a few words: "worker joined", "checkpoint written"...
QString eventKindName(wire::JobEventKind kind);

}  // namespace raven::console
