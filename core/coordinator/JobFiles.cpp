#include "coordinator/JobFiles.h"

#include <QFile>
#include <QRegularExpression>

#include <algorithm>

#include "base/Error.h"
#include "coordinator/DurableFile.h"

namespace raven::coordinator {

JobFiles::JobFiles(const QString& dataDir, ledger::JobId job)
    : dir_(QDir(dataDir).filePath(QStringLiteral("jobs/%1").arg(job))) {}

QString JobFiles::resultPath(ledger::WorkUnitId unit) const {
    return QDir(resultsDir()).filePath(QStringLiteral("%1.result").arg(unit));
}

void JobFiles::removeResult(ledger::WorkUnitId unit) const {
    QFile::remove(resultPath(unit));
    QFile::remove(resultInfoPath(unit));
    QFile::remove(gradientPath(unit));
}

QString JobFiles::gradientPath(ledger::WorkUnitId unit) const {
    return QDir(resultsDir()).filePath(QStringLiteral("%1.f32").arg(unit));
}

QString JobFiles::resultInfoPath(ledger::WorkUnitId unit) const {
    return QDir(resultsDir()).filePath(QStringLiteral("%1.json").arg(unit));
}

QString JobFiles::checkpointPath(qint64 version) const {
    return dir_.filePath(QStringLiteral("v%1.safetensors").arg(version));
}

QString JobFiles::roundWeightsPath(qint64 version) const {
    return dir_.filePath(QStringLiteral("round-weights-%1.safetensors").arg(version));
}

QString JobFiles::publishedWeightsPath(qint64 version) const {
    return dir_.filePath(QStringLiteral("published-%1.safetensors").arg(version));
}

void JobFiles::create() const {
    RAVEN_CHECK(QDir().mkpath(resultsDir()), "cannot create " + resultsDir().toStdString(),
                "check the data directory's permissions");
}

QList<qint64> JobFiles::checkpointVersions() const {
    static const QRegularExpression name(QStringLiteral("^v(\\d+)\\.safetensors$"));
    QList<qint64> versions;
    for (const QString& file : dir_.entryList({QStringLiteral("v*.safetensors")}, QDir::Files)) {
        const QRegularExpressionMatch m = name.match(file);
        if (m.hasMatch()) versions << m.captured(1).toLongLong();
    }
    std::sort(versions.begin(), versions.end());
    return versions;
}

std::optional<QByteArray> JobFiles::checkpoint(qint64 version, qint64 currentVersion) const {
    const QString path = version == 0 || version == currentVersion ? statePath() : checkpointPath(version);
    if (!QFile::exists(path)) return std::nullopt;
    return readWhole(path);
}

QString JobFiles::failure() const {
    QFile file(failurePath());
    if (!file.open(QIODevice::ReadOnly)) return {};
    return QString::fromUtf8(file.readAll()).trimmed();
}

void JobFiles::recordFailure(const QString& why) const {
    QDir().mkpath(dir_.path());
    writeDurably(failurePath(), why.toUtf8());
}

}  // namespace raven::coordinator
