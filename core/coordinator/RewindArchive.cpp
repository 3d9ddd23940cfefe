#include "coordinator/RewindArchive.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>

#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/Error.h"
#include "coordinator/DurableFile.h"

namespace raven::coordinator {

RewindArchive::RewindArchive(const JobFiles& files) : files_(files) {}

QString RewindArchive::dir() const { return files_.dir().filePath(QStringLiteral("rewind")); }

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
        bool ok = false;
        const qint64 v = sub.toLongLong(&ok);
        if (ok && v < step) QDir(root.filePath(sub)).removeRecursively();
    }
}

void RewindArchive::remove() const { QDir(dir()).removeRecursively(); }

qint64 RewindArchive::keptFrom(qint64 version, std::optional<qint64> earliestPending,
                               std::optional<qint64> earliestDue) {
    qint64 from = version;
    if (earliestPending) from = std::min(from, *earliestPending);
    if (earliestDue) from = std::min(from, *earliestDue);
    return std::max<qint64>(0, from);
}

}  // namespace raven::coordinator
