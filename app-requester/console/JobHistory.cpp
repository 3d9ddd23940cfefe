#include "JobHistory.h"

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QObject>

namespace raven::console {

QString eventKindName(wire::JobEventKind kind) {
    switch (kind) {
        case wire::JOB_EVENT_KIND_STATE_CHANGED:
            return QObject::tr("state changed");
        case wire::JOB_EVENT_KIND_CHECKPOINT_WRITTEN:
            return QObject::tr("checkpoint written");
        case wire::JOB_EVENT_KIND_WORKER_JOINED:
            return QObject::tr("contributor joined");
        case wire::JOB_EVENT_KIND_WORKER_LEFT:
            return QObject::tr("contributor left");
        case wire::JOB_EVENT_KIND_WORK_REISSUED:
            return QObject::tr("work re-issued");
        case wire::JOB_EVENT_KIND_BUDGET_LOW:
            return QObject::tr("budget low");
        case wire::JOB_EVENT_KIND_RESULT_OUTLIER:
            return QObject::tr("result clipped");
        default:
            return QObject::tr("event");
    }
}

JobHistory::JobHistory(const QString& directory, const QString& jobId)
    : jobId_(jobId), file_(QDir(directory).filePath("job-" + jobId + ".jsonl")) {
    QDir().mkpath(directory);
    load();
    if (!file_.open(QIODevice::Append | QIODevice::Text))
        writeProblem_ =
            QObject::tr("The job's history cannot be kept in %1: %2").arg(file_.fileName(), file_.errorString());
}

void JobHistory::load() {
    QFile in(file_.fileName());
    if (!in.open(QIODevice::ReadOnly | QIODevice::Text)) return;
    while (!in.atEnd()) {
        const QJsonObject o = QJsonDocument::fromJson(in.readLine()).object();
        const std::int64_t t = o["t"].toInteger();
        if (o.contains("m")) {
            MetricPoint p{std::uint64_t(o["m"].toInteger()),
                          t,
                          o["loss"].toDouble(),
                          o["sps"].toDouble(),
                          o["w"].toInt(),
                          {},
                          {},
                          {}};
            if (o.contains("el")) p.evalLoss = o["el"].toDouble();
            if (o.contains("ea")) p.evalAccuracy = o["ea"].toDouble();
            if (o.contains("lr")) p.learningRate = o["lr"].toDouble();
            if (metrics_.empty() || p.step > metrics_.back().step) metrics_.push_back(p);
        } else if (o.contains("e")) {
            events_.push_back(
                {t, std::uint64_t(o["s"].toInteger()), wire::JobEventKind(o["e"].toInt()), o["msg"].toString()});
        } else if (o.contains("c")) {
            spend_.push_back({t, std::uint64_t(o["s"].toInteger()), o["c"].toInteger(), o["b"].toInteger()});
        }
    }
}

void JobHistory::append(const QByteArray& line) {
    if (!file_.isOpen()) return;
    if (file_.write(line + '\n') < 0 || !file_.flush())
        writeProblem_ = QObject::tr("The job's history cannot be kept in %1: %2 (is the disk full?)")
                            .arg(file_.fileName(), file_.errorString());
}

bool JobHistory::add(const wire::MetricsUpdate& u) {
    if (!metrics_.empty() && u.step() <= metrics_.back().step) return false;
    MetricPoint p{u.step(),
                  std::int64_t(u.timestamp_ms()),
                  u.train_loss(),
                  u.samples_per_second(),
                  int(u.active_workers()),
                  {},
                  {},
                  {}};
    QJsonObject o{{"m", qint64(p.step)},
                  {"t", qint64(p.timeMs)},
                  {"loss", p.trainLoss},
                  {"sps", p.samplesPerSecond},
                  {"w", p.workers}};
    if (u.has_eval_loss()) o["el"] = *(p.evalLoss = u.eval_loss());
    if (u.has_eval_accuracy()) o["ea"] = *(p.evalAccuracy = u.eval_accuracy());
    if (const auto lr = u.extra().find("learning_rate"); lr != u.extra().end())
        o["lr"] = *(p.learningRate = lr->second);
    metrics_.push_back(p);
    append(QJsonDocument(o).toJson(QJsonDocument::Compact));
    return true;
}

bool JobHistory::add(const wire::JobEvent& e) {
    const auto t = std::int64_t(e.timestamp_ms());
    for (auto it = events_.rbegin(); it != events_.rend() && it->timeMs >= t; ++it)
        if (it->timeMs == t && it->kind == e.kind() && it->message == QString::fromStdString(e.message())) return false;
    EventPoint p{t, lastStep(), e.kind(), QString::fromStdString(e.message())};
    if (p.message.isEmpty()) p.message = eventKindName(p.kind);
    events_.push_back(p);
    append(QJsonDocument(QJsonObject{{"e", int(p.kind)}, {"t", qint64(t)}, {"s", qint64(p.step)}, {"msg", p.message}})
               .toJson(QJsonDocument::Compact));
    return true;
}

bool JobHistory::addSpend(std::int64_t timeMs, std::int64_t spent, std::int64_t budget) {
    if (!spend_.empty() && spend_.back().spent == spent && spend_.back().budget == budget) return false;
    spend_.push_back({timeMs, lastStep(), spent, budget});
    append(
        QJsonDocument(
            QJsonObject{{"c", qint64(spent)}, {"b", qint64(budget)}, {"t", qint64(timeMs)}, {"s", qint64(lastStep())}})
            .toJson(QJsonDocument::Compact));
    return true;
}

}  // namespace raven::console
