#include "ledger/SqlConnection.h"

#include "base/Error.h"

#include <QDateTime>
#include <QSqlError>

#include <atomic>

namespace raven::ledger {

namespace {

std::atomic<quint64> connectionCounter{0};

std::string describe(const QSqlError& error) { return error.text().toStdString(); }

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
    {
        QSqlDatabase db = QSqlDatabase::database(name_, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(name_);
}

QSqlDatabase SqlConnection::database() const { return QSqlDatabase::database(name_, false); }

QSqlQuery SqlConnection::exec(const QString& sql, const QVariantList& bindings) const {
    QSqlQuery query(database());
    query.setForwardOnly(true);
    if (!query.prepare(sql))
        fail("SQL statement could not be prepared on " + path_.toStdString() + ": " + describe(query.lastError()) +
                 "\n  statement: " + sql.simplified().toStdString(),
             "the database may be damaged or from another program; run the coordinator's audit");
    for (const QVariant& value : bindings) {
        // A null QString would bind as SQL NULL; the store means NULL only through a typed null QVariant.
        if (value.metaType() == QMetaType::fromType<QString>() && value.toString().isNull())
            query.addBindValue(QStringLiteral(""));
        else
            query.addBindValue(value);
    }
    if (!query.exec())
        fail("SQL statement failed on " + path_.toStdString() + ": " + describe(query.lastError()) +
                 "\n  statement: " + sql.simplified().toStdString(),
             "if the database is busy, another process holds it too long; otherwise report this as a bug");
    return query;
}

QVariant SqlConnection::scalar(const QString& sql, const QVariantList& bindings) const {
    QSqlQuery query = exec(sql, bindings);
    return query.next() ? query.value(0) : QVariant();
}

QVariant toSqlTime(const QDateTime& time) {
    return time.isValid() ? QVariant(time.toMSecsSinceEpoch()) : QVariant(QMetaType::fromType<qint64>());
}

QDateTime fromSqlTime(const QVariant& value) {
    if (value.isNull() || !value.isValid()) return {};
    return QDateTime::fromMSecsSinceEpoch(value.toLongLong(), Qt::UTC);
}

}  // namespace raven::ledger
