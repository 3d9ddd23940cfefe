#include "protocol/KnownHosts.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>
#include <QStringList>

#include <vector>

#include "base/Error.h"

namespace raven::protocol {
namespace {

// The pins in file order: each line split into host:port and fingerprint (comments kept as they are).
struct Line {
    QString text;
    QString hostPort;
    QString fingerprint;
};

std::vector<Line> readLines(const QString& path) {
    std::vector<Line> lines;
    QFile file(path);
    if (!file.exists()) return lines;
    RAVEN_CHECK(file.open(QIODevice::ReadOnly | QIODevice::Text),
                "cannot read the known hosts file " + path.toStdString() + ": " + file.errorString().toStdString(),
                "check its permissions");
    const QStringList texts = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'));
    for (const QString& text : texts) {
        Line line{text, {}, {}};
        const QString trimmed = text.trimmed();
        if (!trimmed.isEmpty() && !trimmed.startsWith(QLatin1Char('#'))) {
            const QStringList fields = trimmed.split(QLatin1Char(' '), Qt::SkipEmptyParts);
            if (fields.size() >= 2) {
                line.hostPort = fields[0];
                line.fingerprint = fields[1];
            }
        }
        lines.push_back(line);
    }
    while (!lines.empty() && lines.back().text.trimmed().isEmpty()) lines.pop_back();
    return lines;
}

}  // namespace

KnownHosts::KnownHosts(QString filePath) : path_(std::move(filePath)) {}

QString KnownHosts::defaultPath() {
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("known_hosts"));
}

KnownHosts::Check KnownHosts::check(const QString& hostPort, const QString& fingerprint) const {
    for (const Line& line : readLines(path_)) {
        if (line.hostPort.compare(hostPort, Qt::CaseInsensitive) != 0) continue;
        const bool same = line.fingerprint.compare(fingerprint, Qt::CaseInsensitive) == 0;
        return {same ? Verdict::Trusted : Verdict::Changed, line.fingerprint};
    }
    return {Verdict::FirstContact, {}};
}

void KnownHosts::pin(const QString& hostPort, const QString& fingerprint) const {
    std::vector<Line> lines = readLines(path_);
    QString text;
    if (lines.empty())
        text += QStringLiteral(
            "# Raven coordinators this program trusts: host:port and the SHA-256 "
            "fingerprint of its TLS certificate.\n");
    for (const Line& line : lines) {
        if (line.hostPort.compare(hostPort, Qt::CaseInsensitive) == 0) continue;
        text += line.text + QLatin1Char('\n');
    }
    text += hostPort + QLatin1Char(' ') + fingerprint + QLatin1Char('\n');

    const QString dir = QFileInfo(path_).absolutePath();
    RAVEN_CHECK(QDir().mkpath(dir), "cannot create " + dir.toStdString() + " for the known hosts file",
                "check the permissions of its parent folder");
    QSaveFile file(path_);
    const QByteArray bytes = text.toUtf8();
    const bool ok = file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size() && file.commit();
    RAVEN_CHECK(ok,
                "cannot write the known hosts file " + path_.toStdString() + ": " + file.errorString().toStdString(),
                "check its permissions and the free disk space");
}

QString KnownHosts::changedMessage(const QString& hostPort, const QString& pinned, const QString& presented) const {
    return QStringLiteral(
               "refusing %1: its TLS certificate changed. Pinned on first contact: %2; presented now: %3. "
               "If the coordinator's certificate was replaced on purpose, delete the line for %1 from %4 "
               "and connect again; otherwise someone may be intercepting the connection.")
        .arg(hostPort, pinned, presented, QDir::toNativeSeparators(QFileInfo(path_).absoluteFilePath()));
}

}  // namespace raven::protocol
