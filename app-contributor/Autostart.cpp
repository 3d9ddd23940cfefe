#include "Autostart.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

namespace raven::contributor {

QString autostartPath(const QString& autostartDir) {
    const QString dir = autostartDir.isEmpty()
                            ? QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) + "/autostart"
                            : autostartDir;
    return QDir(dir).filePath(QStringLiteral("org.raven.Contributor.desktop"));
}

bool setStartAtLogin(bool enabled, const QString& autostartDir, QString* why) {
    const QString path = autostartPath(autostartDir);
    if (!enabled) return !QFile::exists(path) || QFile::remove(path);
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (file.open(QIODevice::WriteOnly)) {
        file.write(
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=Raven Contributor\n"
            "Comment=Donate idle compute to train neural networks, within your limits\n"
            "Exec=raven-contributor --hidden\n"
            "Icon=raven-contributor\n"
            "Terminal=false\n"
            "X-GNOME-Autostart-enabled=true\n");
        if (file.commit()) return true;
    }
    if (why) *why = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
    return false;
}

}  // namespace raven::contributor
