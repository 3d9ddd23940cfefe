#include "coordinator/RewindArchive.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/Error.h"
#include "coordinator/DurableFile.h"
#include "data/Sha256.h"

namespace raven::coordinator {

RewindArchive::RewindArchive(const JobFiles& files)
    : files_(files), dir_(files.dir().filePath(QStringLiteral("rewind"))) {}

RewindArchive::RewindArchive(const JobFiles& files, const QString& dir) : files_(files), dir_(dir) {}

QString RewindArchive::dir() const { return dir_; }

QString RewindArchive::statePath(qint64 version) const {
    return QDir(dir()).filePath(QStringLiteral("state-%1.safetensors").arg(version));
}

QString RewindArchive::resultPath(qint64 step, ledger::WorkUnitId unit) const {
    return QDir(dir()).filePath(QStringLiteral("%1/%2.result").arg(step).arg(unit));
}

void RewindArchive::keepState(qint64 version) const {
    RAVEN_CHECK(QDir().mkpath(dir()), "cannot create " + dir().toStdString(), "check the data directory's permissions");
    const QString target = statePath(version);
    QFile::remove(target);  // a step computed again after a crash links it again
    const QByteArray from = QFile::encodeName(files_.statePath());
    const QByteArray to = QFile::encodeName(target);
    // The state file is replaced by a rename, never written in place: the link keeps version V's bytes.
    if (::link(from.constData(), to.constData()) == 0) return;
    const int error = errno;
    if (error != EXDEV && error != EPERM && error != EOPNOTSUPP)
        RAVEN_CHECK(false,
                    "cannot keep " + files_.statePath().toStdString() + " as " + target.toStdString() + ": " +
                        std::strerror(error),
                    "check the data directory's permissions and free space");
    writeDurably(target, readWhole(files_.statePath()));
}

void RewindArchive::keepResults(qint64 step, const QList<ledger::WorkUnitId>& units) const {
    const QString stepDir = QDir(dir()).filePath(QString::number(step));
    RAVEN_CHECK(QDir().mkpath(stepDir), "cannot create " + stepDir.toStdString(),
                "check the data directory's permissions");
    for (const ledger::WorkUnitId unit : units) {
        const QString from = files_.resultPath(unit);
        if (!QFile::exists(from)) continue;
        const QString to = resultPath(step, unit);
        QFile::remove(to);
        RAVEN_CHECK(QFile::rename(from, to), "cannot move " + from.toStdString() + " to " + to.toStdString(),
                    "check the data directory's permissions");
    }
}

bool RewindArchive::hasStep(qint64 step) const { return QFile::exists(statePath(step)); }

QList<qint64> RewindArchive::steps() const {
    static const QRegularExpression name(QStringLiteral("^state-(\\d+)\\.safetensors$"));
    QList<qint64> found;
    for (const QString& file : QDir(dir()).entryList({QStringLiteral("state-*.safetensors")}, QDir::Files)) {
        const QRegularExpressionMatch m = name.match(file);
        if (m.hasMatch()) found << m.captured(1).toLongLong();
    }
    std::sort(found.begin(), found.end());
    return found;
}

void RewindArchive::dropBefore(qint64 step) const {
    const QDir root(dir());
    if (!root.exists()) return;
    for (const qint64 v : steps())
        if (v < step) QFile::remove(statePath(v));
    for (const QString& sub : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        bool ok = false;  // staging/ is not a step
        const qint64 v = sub.toLongLong(&ok);
        if (ok && v < step) QDir(root.filePath(sub)).removeRecursively();
    }
}

void RewindArchive::remove() const { QDir(dir()).removeRecursively(); }

namespace {

QString rewindDuePath(const QString& dir) { return QDir(dir).filePath(QStringLiteral("due.json")); }
QString rewindCommitPath(const QString& dir) { return QDir(dir).filePath(QStringLiteral("commit.json")); }

QByteArray rewindSha256(const QByteArray& bytes) { return data::sha256(bytes).toHex(); }

}  // namespace

std::set<ledger::WorkUnitId> RewindArchive::due() const {
    std::set<ledger::WorkUnitId> suspects;
    const QString path = rewindDuePath(dir());
    if (!QFile::exists(path)) return suspects;
    const QJsonDocument doc = QJsonDocument::fromJson(readWhole(path));
    RAVEN_CHECK(doc.isObject() && doc.object().value("suspects").isArray(),
                path.toStdString() + " is not a list of suspect work units",
                "the file was changed by hand; restore it from a backup or delete it (the rewind is then not done)");
    for (const QJsonValue& unit : doc.object().value("suspects").toArray()) suspects.insert(unit.toInteger());
    return suspects;
}

void RewindArchive::setDue(const std::set<ledger::WorkUnitId>& suspects) const {
    const QString path = rewindDuePath(dir());
    if (suspects.empty()) {
        QFile::remove(path);
        return;
    }
    RAVEN_CHECK(QDir().mkpath(dir()), "cannot create " + dir().toStdString(), "check the data directory's permissions");
    QJsonArray list;
    for (const ledger::WorkUnitId unit : suspects) list.append(unit);
    writeDurably(path, QJsonDocument(QJsonObject{{"suspects", list}}).toJson(QJsonDocument::Compact));
}

RewindArchive RewindArchive::staging() const {
    return RewindArchive(files_, QDir(dir()).filePath(QStringLiteral("staging")));
}

void RewindArchive::beginCommit(const QByteArray& stateBytes) const {
    writeDurably(rewindCommitPath(dir()), rewindSha256(stateBytes));
}

bool RewindArchive::settleStaging(const QString& liveStatePath) const {
    const RewindArchive staged = staging();
    const QString commit = rewindCommitPath(dir());
    bool committed = false;
    if (QDir(staged.dir()).exists() && QFile::exists(commit) && QFile::exists(liveStatePath))
        committed = readWhole(commit) == rewindSha256(readWhole(liveStatePath));
    if (committed) {
        // The rewind's state file is written: what it recomputed replaces the old lineage's files.
        for (const qint64 v : staged.steps()) {
            QFile::remove(statePath(v));
            RAVEN_CHECK(QFile::rename(staged.statePath(v), statePath(v)),
                        "cannot move " + staged.statePath(v).toStdString() + " into " + dir().toStdString(),
                        "check the data directory's permissions");
        }
        const QDir stagedRoot(staged.dir());
        for (const QString& sub : stagedRoot.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            bool ok = false;
            const qint64 step = sub.toLongLong(&ok);
            if (!ok) continue;
            QList<ledger::WorkUnitId> units;
            for (const QString& file :
                 QDir(stagedRoot.filePath(sub)).entryList({QStringLiteral("*.result")}, QDir::Files))
                units << file.section('.', 0, 0).toLongLong();
            RAVEN_CHECK(QDir().mkpath(QDir(dir()).filePath(sub)),
                        "cannot create a step folder in " + dir().toStdString(),
                        "check the data directory's permissions");
            for (const ledger::WorkUnitId unit : units) {
                QFile::remove(resultPath(step, unit));
                RAVEN_CHECK(
                    QFile::rename(staged.resultPath(step, unit), resultPath(step, unit)),
                    "cannot move " + staged.resultPath(step, unit).toStdString() + " into " + dir().toStdString(),
                    "check the data directory's permissions");
            }
        }
    }
    // Cut short (or taken): the staging goes, and the intent with it.
    QDir(staged.dir()).removeRecursively();
    QFile::remove(commit);
    return committed;
}

qint64 RewindArchive::keptFrom(qint64 version, std::optional<qint64> earliestPending,
                               std::optional<qint64> earliestDue) {
    qint64 from = version;
    if (earliestPending) from = std::min(from, *earliestPending);
    if (earliestDue) from = std::min(from, *earliestDue);
    return std::max<qint64>(0, from);
}

}  // namespace raven::coordinator
