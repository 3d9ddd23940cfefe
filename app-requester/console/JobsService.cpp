#include "JobsService.h"

#include <QDebug>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include "ConnectionService.h"
#include "WhileAlive.h"
#include "requester/RequesterClient.h"

namespace raven::console {

namespace {
constexpr int kPollMs = 2000;
}

JobsService::JobsService(ConnectionService& connection, QString recordFile, QObject* parent)
    : QObject(parent), connection_(connection), recordFile_(std::move(recordFile)) {
    poll_.setInterval(kPollMs);
    connect(&poll_, &QTimer::timeout, this, &JobsService::refresh);
    connect(&connection_, &ConnectionService::connected, this, [this] {
        refresh();
        poll_.start();
    });
    connect(&connection_, &ConnectionService::connectionLost, &poll_, &QTimer::stop);
}

const wire::JobInfo* JobsService::job(const QString& id) const {
    for (const auto& j : jobs_)
        if (QString::fromStdString(j.job_id()) == id) return &j;
    return nullptr;
}

QJsonObject JobsService::recorded(const QString& jobId) const {
    QFile file(recordFile_);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(file.readAll()).object().value(jobId).toObject();
}

QString JobsService::datasetOf(const QString& jobId) const { return recorded(jobId)["dataset"].toString(); }
QJsonObject JobsService::configOf(const QString& jobId) const { return recorded(jobId)["config"].toObject(); }

void JobsService::remember(const QString& jobId, const QString& datasetId, const QJsonObject& config) {
    QJsonObject all;
    QFile in(recordFile_);
    if (in.open(QIODevice::ReadOnly)) all = QJsonDocument::fromJson(in.readAll()).object();
    all[jobId] = QJsonObject{{"dataset", datasetId}, {"config", config}};
    QSaveFile out(recordFile_);
    if (!out.open(QIODevice::WriteOnly) || out.write(QJsonDocument(all).toJson()) < 0 || !out.commit())
        qWarning().noquote() << "cannot record job" << jobId << "in" << recordFile_ << ":" << out.errorString();
}

void JobsService::refresh() {
    auto* client = connection_.client();
    if (!client) return;
    client->listJobs({whileAlive(this,
                                 [](JobsService* self, const std::vector<wire::JobInfo>& jobs) {
                                     self->jobs_ = jobs;
                                     emit self->jobsChanged();
                                 }),
                      {}});
    client->balance({whileAlive(this,
                                [](JobsService* self, const wire::Balance& b) {
                                    if (self->balance_ == b.micro_credits() &&
                                        self->price_ == b.micro_credits_per_teraflop())
                                        return;
                                    self->balance_ = b.micro_credits();
                                    self->price_ = b.micro_credits_per_teraflop();
                                    emit self->balanceChanged(self->balance_);
                                }),
                     {}});
}

void JobsService::failSubmit(const QString& message) {
    submitting_ = false;
    emit submitFailed(message);
}

void JobsService::submit(const SubmitRequest& request) {
    auto* client = connection_.client();
    if (submitting_) return;
    if (!client) {
        emit submitFailed(tr("Not connected to a coordinator: wait until the status bar says connected."));
        return;
    }
    submitting_ = true;
    emit submitStage(tr("Uploading the dataset…"), 0, 0);
    try {
        client->uploadDataset(request.dataset.manifest, data::ShardStore(QDir(request.dataset.path).filePath("shards")),
                              {whileAlive(this,
                                          [request](JobsService* self, const requester::DatasetUploaded& d) {
                                              self->createJob(request, d.datasetId);
                                          }),
                               whileAlive(this,
                                          [](JobsService* self, const requester::Failure& f) {
                                              self->failSubmit(tr("The dataset did not upload: %1").arg(f.text()));
                                          })},
                              whileAlive(this, [](JobsService* self, const requester::UploadProgress& p) {
                                  emit self->submitStage(tr("Uploading shards the coordinator lacks…"), p.shardsSent,
                                                         p.shardsToSend);
                              }));
    } catch (const std::exception& e) {
        failSubmit(QString::fromUtf8(e.what()));
    }
}

void JobsService::createJob(const SubmitRequest& request, const QString& datasetId) {
    auto* client = connection_.client();
    if (!client) return failSubmit(tr("The connection to the coordinator was lost; submit again when it is back."));
    emit submitStage(tr("Uploading the model spec…"), 0, 0);
    client->uploadModelSpec(
        request.specName, request.specText,
        {whileAlive(this,
                    [request, datasetId](JobsService* self, const QString& specHash) {
                        auto* c = self->connection_.client();
                        if (!c) return self->failSubmit(tr("The connection to the coordinator was lost."));
                        wire::CreateJob job = request.job;
                        job.set_dataset_id(datasetId.toStdString());
                        job.set_model_spec_sha256(specHash.toStdString());
                        emit self->submitStage(tr("Creating the job…"), 0, 0);
                        c->createJob(job, {whileAlive(self,
                                                      [datasetId, config = request.config](JobsService* me,
                                                                                           const wire::JobInfo& info) {
                                                          me->jobCreated(info, datasetId, config);
                                                      }),
                                           whileAlive(self, [](JobsService* me, const requester::Failure& f) {
                                               me->failSubmit(f.text());
                                           })});
                    }),
         whileAlive(this, [](JobsService* self, const requester::Failure& f) {
             self->failSubmit(tr("The model spec was refused: %1").arg(f.text()));
         })});
}

void JobsService::jobCreated(const wire::JobInfo& info, const QString& datasetId, const QJsonObject& config) {
    submitting_ = false;
    const QString id = QString::fromStdString(info.job_id());
    remember(id, datasetId, config);
    jobs_.push_back(info);
    emit jobsChanged();
    emit submitted(id);
    refresh();
}

void JobsService::control(const QString& jobId, wire::JobAction action) {
    auto* client = connection_.client();
    if (!client) {
        emit controlFailed(tr("Not connected to a coordinator."));
        return;
    }
    client->controlJob(
        jobId, action,
        {whileAlive(this, [](JobsService* self, const wire::JobInfo&) { self->refresh(); }),
         whileAlive(this, [](JobsService* self, const requester::Failure& f) { emit self->controlFailed(f.text()); })});
}

}  // namespace raven::console
