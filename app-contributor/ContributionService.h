#pragma once
// ContributionService: the app's engine room, with no widget in it. It runs core/worker's Worker in
// this process while the policy allows, and stops it (handing its leases back) when it does not.
//
//   ContributorConfig config;  DesktopMonitor desktop;
//   ContributionService service(config, desktop);
//   connect(&service, &ContributionService::decisionChanged, ...);   // the tray and window show it
//   service.start();          // evaluates the policy now and whenever an input or setting changes
//   service.pause();  service.snooze(QDateTime::currentDateTime().addSecs(3600));  service.resume();
//   service.shutdown();       // Quit: stops the worker cleanly, then emits shutDownComplete()
//
// Why in process: the worker engine already computes off the GUI thread (its own compute thread)
// and speaks to the coordinator on this thread's event loop; a child process would add a second
// control channel for nothing. Closing the window never stops it; only shutdown() does.
//
// Policy -> worker: Computing starts a Worker (device and CPU threads from the settings and the
// decision) and sets its duty cycle to the decision's GPU share; any other state stops it
// (Worker::stop(): units not started are handed back, the one computing may finish). A change of
// threads or device restarts it; a change of share only sets the duty cycle.
//
// The busy share: the time the device spent computing over the last minute of wall time (or since
// the cap last changed), measured by the worker's DutyCycle (its rests inside a unit not counted),
// shown beside the cap.
#include <QDateTime>
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <deque>
#include <memory>

#include "ComputeDevices.h"
#include "ComputePolicy.h"
#include "ContributorConfig.h"
#include "TemperatureSensors.h"
#include "worker/Worker.h"

namespace raven::contributor {

class DesktopMonitor;

class ContributionService : public QObject {
    Q_OBJECT
public:
    ContributionService(ContributorConfig& config, DesktopMonitor& desktop, QObject* parent = nullptr);
    ~ContributionService() override;

    void start();
    void pause();
    void resume();  // also ends a snooze
    void snooze(const QDateTime& until);
    // Stops the worker (hands its leases back) and emits shutDownComplete(); nothing starts again.
    void shutdown();

    const PolicyDecision& decision() const { return decision_; }
    // The person's own pause or snooze is on (Resume undoes either).
    bool heldByPerson() const {
        return config_.get(ConfigKey::PausedByUser).toBool() || decision_.state == PolicyDecision::State::Snoozed;
    }
    // The decision's reason, with what is being computed ("computing at 50% (GPU cap): job 3").
    QString statusSentence() const;
    QString stateName() const;  // "computing", "waiting", "paused", "snoozed", "not set up", "error"
    // The worker failed to reach the coordinator (lost it, or never got through) and tries again by
    // itself; false again once it is registered. Until then nothing computes, so the app says
    // "waiting" rather than "computing" (a unit already on the compute thread aside).
    bool coordinatorUnreachable() const;
    // A work unit computing now, or one finished less than 5 s ago with the connection up: the
    // "computing" state. Without one, a service allowed to compute is "waiting".
    bool unitInHand() const;
    // When the worker got through again after being unreachable; invalid if it never lost it.
    QDateTime reconnectedAt() const { return reconnectedAt_; }
    // The last refusal or failure that needs the person (bad token, changed certificate); empty: none.
    const QString& problem() const { return problem_; }
    void clearProblem();

    bool workerRunning() const { return worker_ != nullptr; }
    worker::Worker* worker() const { return worker_.get(); }
    // The worker's own counts since the app started (the ledger's figures come from StatsClient).
    const worker::Worker::Stats& sessionStats() const { return totals_; }
    QString currentUnit() const { return currentUnit_; }
    QString currentJob() const { return currentJob_; }
    QString deviceSummary() const { return deviceSummary_; }
    QString contributorId() const { return contributorId_; }
    // Busy share of the compute thread over the last minute (0..1); -1 before the first unit.
    double busyShare() const;

    // Where the engine keeps its shards and pins; tests point these at temporary folders.
    void setCacheDir(const QString& dir) { cacheDir_ = dir; }
    void setKnownHostsPath(const QString& path) { knownHostsPath_ = path; }
    QString knownHostsPath() const { return knownHostsPath_; }

    // The temperature of the device chosen (read every few seconds; absent: no sensor, with why) and
    // what it is of ("GPU", "CPU").
    const Temperature& temperature() const { return temperature_; }
    QString heatDevice() const;
    // Tests read sensors from a sysfs tree of their own.
    void setTemperatureSensors(std::unique_ptr<TemperatureSensors> sensors) { sensors_ = std::move(sensors); }

    // A GPU lost mid-unit (VK_ERROR_DEVICE_LOST): the CPU computes instead until the Devices
    // setting changes or the app starts again; empty when none was lost.
    const QString& lostDevice() const { return lostDevice_; }
    // Set while the disk holding the cache has almost no space left (checked every few seconds):
    // "the disk holding the cache is full (12 MB free): ..."; empty otherwise.
    const QString& diskProblem() const { return diskProblem_; }
    // Bytes sent and received today (local day), kept across restarts, for the daily transfer cap.
    qint64 transferredToday() const;

    // Evaluate the policy now (also called by every input and setting change and by the clock).
    void reevaluate();

signals:
    void decisionChanged();  // state or reason changed
    void workChanged();      // a unit started or finished, stats moved
    // One per result the coordinator answered; microCredits is what its ResultAck credited.
    void unitFinished(QString workUnitId, QString jobId, int status, qint64 samples, double seconds,
                      qint64 microCredits);
    void logLine(QString text);
    void problemRaised(QString text);  // needs the person: a notification, an error icon
    // Worth a notification but not an error state: the GPU was lost and the CPU took over.
    void noticeRaised(QString title, QString text);
    void connectedChanged(bool connected);
    void shutDownComplete();

private:
    void applyDecision();
    void startWorker();
    void stopWorker();
    void readyForSleepIfStopped();
    void onComputeFailed(const QString& unit, const QString& error);
    void onWorkerStopped();
    worker::WorkerOptions workerOptions() const;
    void accumulate(const worker::Worker::Stats& now);

    ContributorConfig& config_;
    DesktopMonitor& desktop_;
    PolicyDecision decision_;
    QTimer clock_;  // re-evaluates at the decision's recheckAt
    std::unique_ptr<worker::Worker> worker_;
    std::unique_ptr<worker::Worker> stopping_;  // stopping, or stopped and about to be deleted
    int runningThreads_ = -1;
    QString runningDevice_;
    QString lostDevice_;
    QString lastRefusal_;         // the last unit handed back under a limit (the memory cap), for the status
    QElapsedTimer refusedSince_;  // a GPU that was lost mid-unit: the CPU computes until the devices change
    bool started_ = false;
    bool lostContact_ = false;  // the running worker's connection failed; cleared when it registers
    QDateTime reconnectedAt_;
    bool shuttingDown_ = false;
    QString problem_;
    QString cacheDir_, knownHostsPath_;
    QString currentUnit_, currentJob_, deviceSummary_, contributorId_;
    worker::Worker::Stats totals_;    // over every worker this app ran
    worker::Worker::Stats lastSeen_;  // the running worker's stats at the last accumulate()
    QHash<QString, QString> jobOfUnit_;
    QElapsedTimer idleSince_;  // since the last unit left the compute thread
    void readTemperature();
    void checkDisk();
    QString diskProblem_;
    std::unique_ptr<TemperatureSensors> sensors_;
    std::optional<ComputeDevice> heatSource_;  // the chosen device, resolved once per Devices setting
    Temperature temperature_;
    QTimer heatTimer_;  // the sensors are read again every few seconds
};

}  // namespace raven::contributor
