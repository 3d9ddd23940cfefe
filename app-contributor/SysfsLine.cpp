#include "SysfsLine.h"

#include <QFile>

namespace raven::contributor {

QString readSysfsLine(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QString::fromUtf8(f.readLine(256)).trimmed();
}

}  // namespace raven::contributor
