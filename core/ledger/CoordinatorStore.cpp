#include "ledger/CoordinatorStore.h"

#include "base/Error.h"
#include "ledger/Schema.h"
#include "ledger/Secrets.h"
#include "ledger/Transaction.h"

#include <QJsonDocument>
#include <QSqlRecord>

namespace raven::ledger {

namespace {

QString toJson(const QJsonObject& object) {
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}
QString toJson(const QJsonArray& array) {
    return QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Compact));
}
QJsonObject objectFromJson(const QVariant& v) { return QJsonDocument::fromJson(v.toString().toUtf8()).object(); }
QJsonArray arrayFromJson(const QVariant& v) { return QJsonDocument::fromJson(v.toString().toUtf8()).array(); }
std::optional<qint64> optionalId(const QVariant& v) {
    if (v.isNull()) return std::nullopt;
    return v.toLongLong();
}

const QString kJobColumns = QStringLiteral(
    "id, requester, name, spec, hyperparameters, dataset, budget, state, model_version, created_at, updated_at");
const QString kWorkUnitColumns = QStringLiteral(
    "id, job, model_version, shard_hashes, flops, state, lease_holder, lease_deadline, accepted_at, accepted_from");

Job jobFrom(const QSqlQuery& q) {
    Job job;
    job.id = q.value(0).toLongLong();
    job.requester = q.value(1).toLongLong();
    job.name = q.value(2).toString();
    job.spec = objectFromJson(q.value(3));
    job.hyperparameters = objectFromJson(q.value(4));
    job.dataset = q.value(5).toString();
    job.budget = q.value(6).toLongLong();
    job.state = jobStateFromString(q.value(7).toString());
    job.modelVersion = q.value(8).toLongLong();
    job.createdAt = fromSqlTime(q.value(9));
    job.updatedAt = fromSqlTime(q.value(10));
    return job;
}

WorkUnit workUnitFrom(const QSqlQuery& q) {
    WorkUnit unit;
    unit.id = q.value(0).toLongLong();
    unit.job = q.value(1).toLongLong();
    unit.modelVersion = q.value(2).toLongLong();
    for (const QJsonValue& hash : arrayFromJson(q.value(3))) unit.shardHashes << hash.toString();
    unit.flops = q.value(4).toLongLong();
    unit.state = workUnitStateFromString(q.value(5).toString());
    unit.leaseHolder = optionalId(q.value(6));
    unit.leaseDeadline = fromSqlTime(q.value(7));
    unit.acceptedAt = fromSqlTime(q.value(8));
    unit.acceptedFrom = optionalId(q.value(9));
    return unit;
}

}  // namespace

CoordinatorStore::CoordinatorStore(const QString& path) : connection_(std::make_unique<SqlConnection>(path)) {
    migrateSchema(*connection_);
}

CoordinatorStore::~CoordinatorStore() = default;

const QString& CoordinatorStore::path() const { return connection_->path(); }

int CoordinatorStore::schemaVersion() const { return readSchemaVersion(*connection_); }

// --- contributors -------------------------------------------------------------------------------

ContributorId CoordinatorStore::addContributor(const QString& name, const QByteArray& token, const QJsonArray& devices,
                                               double measuredGflops, const QDateTime& now) {
    RAVEN_CHECK(!token.isEmpty(), "contributor '" + name.toStdString() + "' has an empty token",
                "give each contributor a token from newSecret()");
    RAVEN_CHECK(measuredGflops >= 0, "contributor '" + name.toStdString() + "' reports a negative speed",
                "report the measured GFLOP/s of the benchmark (0 when unknown)");
    Transaction tx(*connection_);
    const QString hash = hashSecret(token);
    RAVEN_CHECK(
        !connection_->scalar(QStringLiteral("SELECT id FROM contributors WHERE token_hash = ?"), {hash}).isValid(),
        "a contributor with this token is already registered", "give each contributor its own token");
    SqlRows q = connection_->query(
        QStringLiteral("INSERT INTO contributors (name, token_hash, registered_at, devices, measured_gflops) "
                       "VALUES (?, ?, ?, ?, ?)"),
        {name, hash, toSqlTime(now), toJson(devices), measuredGflops});
    const ContributorId id = q.lastInsertId().toLongLong();
    tx.commit();
    return id;
}

std::optional<Contributor> CoordinatorStore::contributor(ContributorId id) const {
    SqlRows q = connection_->query(
        QStringLiteral(
            "SELECT id, name, token_hash, registered_at, devices, measured_gflops FROM contributors WHERE id = ?"),
        {id});
    if (!q.next()) return std::nullopt;
    Contributor c;
    c.id = q.value(0).toLongLong();
    c.name = q.value(1).toString();
    c.tokenHash = q.value(2).toString();
    c.registeredAt = fromSqlTime(q.value(3));
    c.devices = arrayFromJson(q.value(4));
    c.measuredGflops = q.value(5).toDouble();
    return c;
}

std::optional<ContributorId> CoordinatorStore::contributorByToken(const QByteArray& token) const {
    return optionalId(
        connection_->scalar(QStringLiteral("SELECT id FROM contributors WHERE token_hash = ?"), {hashSecret(token)}));
}

void CoordinatorStore::updateContributorDevices(ContributorId id, const QJsonArray& devices, double measuredGflops) {
    RAVEN_CHECK(measuredGflops >= 0, "contributor " + std::to_string(id) + " reports a negative speed",
                "report the measured GFLOP/s of the benchmark (0 when unknown)");
    Transaction tx(*connection_);
    SqlRows q =
        connection_->query(QStringLiteral("UPDATE contributors SET devices = ?, measured_gflops = ? WHERE id = ?"),
                          {toJson(devices), measuredGflops, id});
    RAVEN_CHECK(q.numRowsAffected() == 1, "no contributor " + std::to_string(id) + " in " + path().toStdString(),
                "register the contributor first");
    tx.commit();
}

// --- requesters ---------------------------------------------------------------------------------

RequesterId CoordinatorStore::addRequester(const QString& name, const QByteArray& apiKey, const QDateTime& now) {
    RAVEN_CHECK(!apiKey.isEmpty(), "requester '" + name.toStdString() + "' has an empty API key",
                "give each requester a key from newSecret()");
    Transaction tx(*connection_);
    const QString hash = hashSecret(apiKey);
    RAVEN_CHECK(
        !connection_->scalar(QStringLiteral("SELECT id FROM requesters WHERE api_key_hash = ?"), {hash}).isValid(),
        "a requester with this API key is already registered", "give each requester its own API key");
    SqlRows q =
        connection_->query(QStringLiteral("INSERT INTO requesters (name, api_key_hash, registered_at) VALUES (?, ?, ?)"),
                          {name, hash, toSqlTime(now)});
    const RequesterId id = q.lastInsertId().toLongLong();
    tx.commit();
    return id;
}

std::optional<Requester> CoordinatorStore::requester(RequesterId id) const {
    SqlRows q = connection_->query(
        QStringLiteral("SELECT id, name, api_key_hash, registered_at FROM requesters WHERE id = ?"), {id});
    if (!q.next()) return std::nullopt;
    return Requester{q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(), fromSqlTime(q.value(3))};
}

std::optional<RequesterId> CoordinatorStore::requesterByApiKey(const QByteArray& apiKey) const {
    return optionalId(
        connection_->scalar(QStringLiteral("SELECT id FROM requesters WHERE api_key_hash = ?"), {hashSecret(apiKey)}));
}

// --- jobs ---------------------------------------------------------------------------------------

JobId CoordinatorStore::addJob(const NewJob& job, const QDateTime& now) {
    Transaction tx(*connection_);
    RAVEN_CHECK(
        requester(job.requester).has_value(),
        "job '" + job.name.toStdString() + "' names requester " + std::to_string(job.requester) + ", which is unknown",
        "register the requester first");
    SqlRows q = connection_->query(
        QStringLiteral("INSERT INTO jobs (requester, name, spec, hyperparameters, dataset, budget, state, "
                       "model_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 'queued', 0, ?, ?)"),
        {job.requester, job.name, toJson(job.spec), toJson(job.hyperparameters), job.dataset, toSqlTime(now),
         toSqlTime(now)});
    const JobId id = q.lastInsertId().toLongLong();
    tx.commit();
    return id;
}

std::optional<Job> CoordinatorStore::job(JobId id) const {
    SqlRows q =
        connection_->query(QStringLiteral("SELECT ") + kJobColumns + QStringLiteral(" FROM jobs WHERE id = ?"), {id});
    if (!q.next()) return std::nullopt;
    return jobFrom(q.row());
}

std::optional<JobState> CoordinatorStore::jobState(JobId id) const {
    SqlRows q = connection_->query(QStringLiteral("SELECT state FROM jobs WHERE id = ?"), {id});
    if (!q.next()) return std::nullopt;
    return jobStateFromString(q.value(0).toString());
}

QList<Job> CoordinatorStore::jobs(std::optional<JobState> state) const {
    SqlRows q =
        state ? connection_->query(
                    QStringLiteral("SELECT ") + kJobColumns + QStringLiteral(" FROM jobs WHERE state = ? ORDER BY id"),
                    {nameOf(*state)})
              : connection_->query(QStringLiteral("SELECT ") + kJobColumns + QStringLiteral(" FROM jobs ORDER BY id"));
    QList<Job> result;
    while (q.next()) result << jobFrom(q.row());
    return result;
}

void CoordinatorStore::setJobState(JobId id, JobState state, const QDateTime& now) {
    Transaction tx(*connection_);
    const std::optional<Job> current = job(id);
    RAVEN_CHECK(current.has_value(), "no job " + std::to_string(id) + " in " + path().toStdString(),
                "check the job id");
    RAVEN_CHECK(!isTerminal(current->state) || current->state == state,
                "job " + std::to_string(id) + " is " + nameOf(current->state).toStdString() + " and cannot become " +
                    nameOf(state).toStdString(),
                "a done or cancelled job is final; submit a new job");
    connection_->query(QStringLiteral("UPDATE jobs SET state = ?, updated_at = ? WHERE id = ?"),
                      {nameOf(state), toSqlTime(now), id});
    tx.commit();
}

void CoordinatorStore::setJobModelVersion(JobId id, qint64 version, const QDateTime& now) {
    RAVEN_CHECK(version >= 0, "job " + std::to_string(id) + ": negative model version", "versions count steps from 0");
    Transaction tx(*connection_);
    SqlRows q =
        connection_->query(QStringLiteral("UPDATE jobs SET model_version = ?, updated_at = ? WHERE id = ?"),
                          {version, toSqlTime(now), id});
    RAVEN_CHECK(q.numRowsAffected() == 1, "no job " + std::to_string(id) + " in " + path().toStdString(),
                "check the job id");
    tx.commit();
}

// --- work units ---------------------------------------------------------------------------------

QList<WorkUnitId> CoordinatorStore::addWorkUnits(JobId jobId, qint64 modelVersion, const QList<NewWorkUnit>& units) {
    Transaction tx(*connection_);
    const std::optional<JobState> owner = jobState(jobId);
    RAVEN_CHECK(owner.has_value(), "no job " + std::to_string(jobId) + " in " + path().toStdString(),
                "check the job id");
    RAVEN_CHECK(!isTerminal(*owner),
                "job " + std::to_string(jobId) + " is " + nameOf(*owner).toStdString() + ": it takes no new work units",
                "submit a new job");
    QList<WorkUnitId> ids;
    for (const NewWorkUnit& unit : units) {
        RAVEN_CHECK(unit.flops > 0,
                    "a work unit of job " + std::to_string(jobId) + " has " + std::to_string(unit.flops) + " FLOPs",
                    "give each work unit its positive FLOP count: it is what the contributor is paid for");
        SqlRows q =
            connection_->query(QStringLiteral("INSERT INTO work_units (job, model_version, shard_hashes, flops, state) "
                                             "VALUES (?, ?, ?, ?, 'pending')"),
                              {jobId, modelVersion, toJson(QJsonArray::fromStringList(unit.shardHashes)), unit.flops});
        ids << q.lastInsertId().toLongLong();
    }
    tx.commit();
    return ids;
}

std::optional<WorkUnit> CoordinatorStore::workUnit(WorkUnitId id) const {
    SqlRows q = connection_->query(
        QStringLiteral("SELECT ") + kWorkUnitColumns + QStringLiteral(" FROM work_units WHERE id = ?"), {id});
    if (!q.next()) return std::nullopt;
    return workUnitFrom(q.row());
}

QList<WorkUnit> CoordinatorStore::workUnits(JobId jobId, std::optional<qint64> modelVersion,
                                            std::optional<WorkUnitState> state) const {
    QString sql = QStringLiteral("SELECT ") + kWorkUnitColumns + QStringLiteral(" FROM work_units WHERE job = ?");
    QVariantList bindings{jobId};
    if (modelVersion) {
        sql += QStringLiteral(" AND model_version = ?");
        bindings << *modelVersion;
    }
    if (state) {
        sql += QStringLiteral(" AND state = ?");
        bindings << nameOf(*state);
    }
    SqlRows q = connection_->query(sql + QStringLiteral(" ORDER BY id"), bindings);
    QList<WorkUnit> result;
    while (q.next()) result << workUnitFrom(q.row());
    return result;
}

}  // namespace raven::ledger
