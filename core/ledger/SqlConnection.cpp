#include "ledger/SqlConnection.h"

#include "base/Error.h"

#include <QDateTime>
#include <QRegularExpression>
#include <QSqlError>

#include <atomic>
#include <optional>
#include <utility>

namespace raven::ledger {

namespace {

std::atomic<quint64> connectionCounter{0};

std::string describe(const QSqlError& error) { return error.text().toStdString(); }

// A statement that changes the schema: cached statements of this connection are dropped after it.
bool changesSchema(const QString& sql) {
    static const QRegularExpression ddl(QStringLiteral(R"(^\s*(CREATE|DROP|ALTER)\b)"),
                                        QRegularExpression::CaseInsensitiveOption);
    return ddl.match(sql).hasMatch();
}

}  // namespace

SqlConnection::SqlConnection(const QString& path)
    : path_(path), name_(QStringLiteral("raven-store-%1").arg(++connectionCounter)) {
    RAVEN_CHECK(QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE")),
                "the Qt SQLite driver (QSQLITE) is not available",
                "install the Qt 6 SQLite plugin (Debian: libqt6sql6-sqlite)");
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name_);
        db.setDatabaseName(path_);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
        if (!db.open()) {
            const std::string why = describe(db.lastError());
            db = QSqlDatabase();
            QSqlDatabase::removeDatabase(name_);
            fail("cannot open the coordinator database " + path_.toStdString() + ": " + why,
                 "check that the directory exists and is writable by this user");
        }
    }
    try {
        const QString mode = scalar(QStringLiteral("PRAGMA journal_mode=WAL")).toString();
        RAVEN_CHECK(mode.compare(QLatin1String("wal"), Qt::CaseInsensitive) == 0,
                    "the coordinator database " + path_.toStdString() +
                        " cannot use write-ahead logging (journal mode is '" + mode.toStdString() + "')",
                    "put the database on a local file system (WAL does not work on network shares)");
        exec(QStringLiteral("PRAGMA synchronous=FULL"));
        exec(QStringLiteral("PRAGMA foreign_keys=ON"));
        exec(QStringLiteral("PRAGMA busy_timeout=10000"));
    } catch (...) {
        { QSqlDatabase::database(name_, false).close(); }
        QSqlDatabase::removeDatabase(name_);
        throw;
    }
}

SqlConnection::~SqlConnection() {
    idle_.clear();  // finalized before the connection closes
    {
        QSqlDatabase db = QSqlDatabase::database(name_, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(name_);
}

QSqlDatabase SqlConnection::database() const { return QSqlDatabase::database(name_, false); }

QSqlQuery SqlConnection::prepare(const QString& sql) const {
    QSqlQuery query(database());
    query.setForwardOnly(true);
    if (!query.prepare(sql))
        fail("SQL statement could not be prepared on " + path_.toStdString() + ": " + describe(query.lastError()) +
                 "\n  statement: " + sql.simplified().toStdString(),
             "the database may be damaged or from another program; run the coordinator's audit");
    return query;
}

void SqlConnection::bind(QSqlQuery& query, const QVariantList& bindings) {
    for (int i = 0; i < bindings.size(); ++i) {
        const QVariant& value = bindings[i];
        // A null QString would bind as SQL NULL; the store means NULL only through a typed null QVariant.
        if (value.metaType() == QMetaType::fromType<QString>() && value.toString().isNull())
            query.bindValue(i, QStringLiteral(""));
        else
            query.bindValue(i, value);
    }
}

QSqlQuery SqlConnection::exec(const QString& sql, const QVariantList& bindings) const {
    if (changesSchema(sql)) clearStatements();
    QSqlQuery query = prepare(sql);
    ++uncached_;
    bind(query, bindings);
    if (!query.exec())
        fail("SQL statement failed on " + path_.toStdString() + ": " + describe(query.lastError()) +
                 "\n  statement: " + sql.simplified().toStdString(),
             "if the database is busy, another process holds it too long; otherwise report this as a bug");
    return query;
}

SqlRows SqlConnection::query(const QString& sql, const QVariantList& bindings) const {
    std::optional<QSqlQuery> query;
    if (auto found = idle_.find(sql); found != idle_.end()) {
        query.emplace(std::move(found.value()));
        idle_.erase(found);
        ++reused_;
    } else {
        // Checked once per preparation, not per run: a schema change is never cached.
        if (changesSchema(sql)) {
            clearStatements();
            return SqlRows(nullptr, sql, exec(sql, bindings));
        }
        query.emplace(prepare(sql));
        ++prepared_;
    }
    bind(*query, bindings);
    if (!query->exec())  // the failed statement is dropped with `query`, not cached
        fail("SQL statement failed on " + path_.toStdString() + ": " + describe(query->lastError()) +
                 "\n  statement: " + sql.simplified().toStdString(),
             "if the database is busy, another process holds it too long; otherwise report this as a bug");
    return SqlRows(this, sql, std::move(*query));
}

QVariant SqlConnection::scalar(const QString& sql, const QVariantList& bindings) const {
    SqlRows rows = query(sql, bindings);
    return rows.next() ? rows.value(0) : QVariant();
}

void SqlConnection::clearStatements() const { idle_.clear(); }

void SqlConnection::giveBack(const QString& sql, QSqlQuery query) const {
    query.finish();
    if (idle_.contains(sql)) return;  // a second copy, prepared while the first was in use
    if (idle_.size() >= kMaxCachedStatements) idle_.clear();
    idle_.insert(sql, std::move(query));
}

SqlRows::SqlRows(SqlRows&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), sql_(std::move(other.sql_)), query_(std::move(other.query_)) {}

SqlRows::~SqlRows() {
    if (owner_) owner_->giveBack(sql_, std::move(query_));
}

QVariant toSqlTime(const QDateTime& time) {
    return time.isValid() ? QVariant(time.toMSecsSinceEpoch()) : QVariant(QMetaType::fromType<qint64>());
}

QDateTime fromSqlTime(const QVariant& value) {
    if (value.isNull() || !value.isValid()) return {};
    return QDateTime::fromMSecsSinceEpoch(value.toLongLong(), Qt::UTC);
}

}  // namespace raven::ledger
