#include "coordinator/DurableFile.h"

#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <memory>
#include <set>

#include <cstdio>

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

void writeDurably(const std::vector<std::pair<QString, QByteArrayList>>& files,
                  const std::function<void()>& beforeRename) {
    std::vector<std::unique_ptr<QFile>> temporaries;
    const auto cleanUp = [&] {
        for (const auto& t : temporaries) QFile::remove(t->fileName());
    };
    for (const auto& [path, pieces] : files) {
        auto file = std::make_unique<QFile>(path + QStringLiteral(".partial"));
        // Unbuffered: each piece goes to write(2) from its own memory (a gradient is not copied).
        bool written = file->open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Unbuffered);
        for (const QByteArray& piece : pieces) written = written && file->write(piece) == piece.size();
        written = written && ::fsync(file->handle()) == 0;
        const QString why = file->errorString();
        file->close();
        temporaries.push_back(std::move(file));
        if (!written) {
            cleanUp();
            RAVEN_CHECK(false, "cannot write " + path.toStdString() + ": " + why.toStdString(),
                        "check that the data directory is writable and the disk not full");
        }
    }
    if (beforeRename) beforeRename();
    std::set<QString> directories;
    for (std::size_t i = 0; i < files.size(); ++i) {
        const QString& path = files[i].first;
        RAVEN_CHECK(::rename(QFile::encodeName(temporaries[i]->fileName()).constData(),
                             QFile::encodeName(path).constData()) == 0,
                    "cannot rename a temporary file over " + path.toStdString(),
                    "check that the data directory is writable");
        directories.insert(QFileInfo(path).absolutePath());
    }
    for (const QString& directory : directories) syncDirectory(directory);
}

QByteArray readWhole(const QString& path) {
    QFile file(path);
    RAVEN_CHECK(file.open(QIODevice::ReadOnly),
                "cannot read " + path.toStdString() + ": " + file.errorString().toStdString(),
                "check the coordinator's data directory");
    return file.readAll();
}

}  // namespace raven::coordinator
