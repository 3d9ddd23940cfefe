#include "coordinator/DurableFile.h"

#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <fcntl.h>
#include <unistd.h>

#include "base/Error.h"

namespace raven::coordinator {

namespace {

void syncDirectory(const QString& directory) {
    const int fd = ::open(QFile::encodeName(directory).constData(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return;  // not fatal: the file itself is synced; only the rename might be lost on power loss
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

void writeDurably(const QString& path, const QByteArray& bytes) {
    QSaveFile file(path);
    RAVEN_CHECK(file.open(QIODevice::WriteOnly),
                "cannot write " + path.toStdString() + ": " + file.errorString().toStdString(),
                "check that the data directory is writable and the disk not full");
    RAVEN_CHECK(file.write(bytes) == bytes.size() && file.commit(),
                "cannot write " + path.toStdString() + ": " + file.errorString().toStdString(),
                "check that the data directory is writable and the disk not full");
    syncDirectory(QFileInfo(path).absolutePath());
}

QByteArray readWhole(const QString& path) {
    QFile file(path);
    RAVEN_CHECK(file.open(QIODevice::ReadOnly),
                "cannot read " + path.toStdString() + ": " + file.errorString().toStdString(),
                "check the coordinator's data directory");
    return file.readAll();
}

}  // namespace raven::coordinator
