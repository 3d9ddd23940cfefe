#pragma once
// JobsService: the requester's jobs and funds on the connected coordinator, kept fresh (every 2 s
// while connected), and the actions on them: submit (upload the dataset's missing shards and the
// spec, then create the job), pause, resume, cancel. Asynchronous: every outcome is a signal.
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTimer>
#include <vector>

#include "DatasetLibrary.h"
#include "protocol/raven.pb.h"

namespace raven::console {

class ConnectionService;

struct SubmitRequest {
    LocalDatasetEntry dataset;
    QString specName;
    QString specText;
    wire::CreateJob job;  // everything but the dataset id and the spec's hash
    QJsonObject config;   // the settings as people read them (JobSettings.h, describeJob), kept here
};

class JobsService : public QObject {
    Q_OBJECT
public:
    // `recordFile` keeps which local dataset each job submitted from here trains on (the coordinator's
    // JobInfo does not say), so that its results can be evaluated after a restart.
    JobsService(ConnectionService& connection, QString recordFile, QObject* parent = nullptr);

    const std::vector<wire::JobInfo>& jobs() const { return jobs_; }
    const wire::JobInfo* job(const QString& id) const;
    // The requester's funds in micro-credits; -1 until known.
    std::int64_t balance() const { return balance_; }
    // The coordinator's price in micro-credits per 10^12 FLOPs, as it says with the balance; -1 until
    // known, 0 from a coordinator too old to say.
    std::int64_t pricePerTeraflop() const { return price_; }

    // The id of the dataset the job was submitted with from this console; empty when unknown.
    QString datasetOf(const QString& jobId) const;
    // The job's settings as submitted from this console (describeJob); empty when unknown.
    QJsonObject configOf(const QString& jobId) const;

    void refresh();
    void submit(const SubmitRequest& request);
    bool isSubmitting() const { return submitting_; }
    void control(const QString& jobId, wire::JobAction action);

signals:
    void jobsChanged();
    // The balance or the coordinator's price changed.
    void balanceChanged(qint64 microCredits);
    void submitStage(const QString& stage, int done, int total);
    void submitted(const QString& jobId);
    void submitFailed(const QString& message);
    void controlFailed(const QString& message);

private:
    void createJob(const SubmitRequest& request, const QString& datasetId);
    void jobCreated(const wire::JobInfo& info, const QString& datasetId, const QJsonObject& config);
    void failSubmit(const QString& message);

    void remember(const QString& jobId, const QString& datasetId, const QJsonObject& config);
    QJsonObject recorded(const QString& jobId) const;

    ConnectionService& connection_;
    QString recordFile_;
    QTimer poll_;
    std::vector<wire::JobInfo> jobs_;
    std::int64_t balance_ = -1;
    std::int64_t price_ = -1;
    bool submitting_ = false;
};

}  // namespace raven::console
