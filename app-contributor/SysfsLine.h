#pragma once

#include <QString>

namespace raven::contributor {

// The first line of a small kernel file (sysfs, procfs), trimmed; empty when it cannot be read. Reads
// at most 256 bytes: these files hold one short value, and a stuck driver must not make us read more.
QString readSysfsLine(const QString& path);

}  // namespace raven::contributor
