#include "coordinator/DurableFile.h"

#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include <fcntl.h>
#include <unistd.h>

#include "base/Error.h"

namespace raven::coordinator {

namespace {

// Files this large (a result's gradient: 0.94 MB for the MLP) go to the disk past the page cache. A
// buffered write copies them into freshly allocated page-cache pages, which the coordinator's profile
// put at ~1 ms of CPU per result (18% of its samples); O_DIRECT hands the disk one aligned buffer
// instead. Smaller ones are not worth the padding.
constexpr qsizetype kDirectFrom = 64 * 1024;
// O_DIRECT needs the buffer, the length and the offset aligned to the device's logical block; 4 KiB
// is the largest in common use. A file system that wants more (or none, as tmpfs on older kernels)
// refuses with EINVAL, and the file is written through the page cache instead.
constexpr std::size_t kDirectAlign = 4096;
// A pool thread keeps its scratch buffer for the next batch unless it grew past this.
constexpr std::size_t kScratchKept = 64u << 20;

std::atomic<quint64> filesWrittenDirectly{0};

// A pool thread's buffer for O_DIRECT, kept for its next batch (results of one job are one size).
class Scratch {
public:
    ~Scratch() { release(); }
    // At least `bytes`, aligned for O_DIRECT; nullptr when memory is short.
    char* reserve(std::size_t bytes) {
        if (capacity_ < bytes) {
            release();
            data_ = static_cast<char*>(std::aligned_alloc(kDirectAlign, bytes));
            capacity_ = data_ ? bytes : 0;
        }
        return data_;
    }
    void release() {
        std::free(data_);
        data_ = nullptr;
        capacity_ = 0;
    }

private:
    char* data_ = nullptr;
    std::size_t capacity_ = 0;
};

thread_local Scratch scratch;

enum class DirectOutcome { Written, NotSupported, Failed };

// Writes the pieces as one new file at `path` with O_DIRECT and fsyncs it. NotSupported (nothing
// left behind but an empty file the caller truncates) when the file system refuses O_DIRECT.
DirectOutcome writeDirectly(const QString& path, const QByteArrayList& pieces, qsizetype size, QString* why) {
    const std::size_t padded = (static_cast<std::size_t>(size) + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
    char* buffer = scratch.reserve(padded);
    if (!buffer) return DirectOutcome::NotSupported;
    const int fd = ::open(QFile::encodeName(path).constData(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0666);
    if (fd < 0) {
        if (errno == EINVAL) return DirectOutcome::NotSupported;
        *why = QString::fromLocal8Bit(std::strerror(errno));
        return DirectOutcome::Failed;
    }
    std::size_t at = 0;
    for (const QByteArray& piece : pieces) {
        std::memcpy(buffer + at, piece.constData(), static_cast<std::size_t>(piece.size()));
        at += static_cast<std::size_t>(piece.size());
    }
    std::memset(buffer + at, 0, padded - at);
    DirectOutcome outcome = DirectOutcome::Written;
    for (std::size_t done = 0; done < padded && outcome == DirectOutcome::Written;) {
        const ssize_t n = ::pwrite(fd, buffer + done, padded - done, static_cast<off_t>(done));
        if (n > 0) {
            done += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            // EINVAL: the file system wants another alignment; anything else is a real failure.
            outcome = n < 0 && errno == EINVAL && done == 0 ? DirectOutcome::NotSupported : DirectOutcome::Failed;
            if (outcome == DirectOutcome::Failed) *why = QString::fromLocal8Bit(std::strerror(n < 0 ? errno : ENOSPC));
        }
    }
    // The padding goes: the file's length is its content's.
    if (outcome == DirectOutcome::Written && (::ftruncate(fd, static_cast<off_t>(size)) != 0 || ::fsync(fd) != 0)) {
        *why = QString::fromLocal8Bit(std::strerror(errno));
        outcome = DirectOutcome::Failed;
    }
    ::close(fd);
    if (padded > kScratchKept) scratch.release();  // a rare huge file: not kept per pool thread
    if (outcome == DirectOutcome::Written) filesWrittenDirectly.fetch_add(1, std::memory_order_relaxed);
    return outcome;
}

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
    std::vector<QString> temporaries;
    const auto cleanUp = [&] {
        for (const QString& t : temporaries) QFile::remove(t);
    };
    for (const auto& [path, pieces] : files) {
        const QString temporary = path + QStringLiteral(".partial");
        qsizetype size = 0;
        for (const QByteArray& piece : pieces) size += piece.size();
        QString why;
        DirectOutcome direct = DirectOutcome::NotSupported;
        if (size >= kDirectFrom) direct = writeDirectly(temporary, pieces, size, &why);
        if (direct == DirectOutcome::NotSupported) {
            QFile file(temporary);
            // Unbuffered: each piece goes to write(2) from its own memory (a gradient is not copied).
            bool written = file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Unbuffered);
            for (const QByteArray& piece : pieces) written = written && file.write(piece) == piece.size();
            written = written && ::fsync(file.handle()) == 0;
            if (!written) why = file.errorString();
            direct = written ? DirectOutcome::Written : DirectOutcome::Failed;
        }
        temporaries.push_back(temporary);
        if (direct == DirectOutcome::Failed) {
            cleanUp();
            RAVEN_CHECK(false, "cannot write " + path.toStdString() + ": " + why.toStdString(),
                        "check that the data directory is writable and the disk not full");
        }
    }
    if (beforeRename) beforeRename();
    std::set<QString> directories;
    for (std::size_t i = 0; i < files.size(); ++i) {
        const QString& path = files[i].first;
        RAVEN_CHECK(::rename(QFile::encodeName(temporaries[i]).constData(),
                             QFile::encodeName(path).constData()) == 0,
                    "cannot rename a temporary file over " + path.toStdString(),
                    "check that the data directory is writable");
        directories.insert(QFileInfo(path).absolutePath());
    }
    for (const QString& directory : directories) syncDirectory(directory);
}

quint64 filesWrittenPastThePageCache() { return filesWrittenDirectly.load(std::memory_order_relaxed); }

QByteArray readWhole(const QString& path) {
    QFile file(path);
    RAVEN_CHECK(file.open(QIODevice::ReadOnly),
                "cannot read " + path.toStdString() + ": " + file.errorString().toStdString(),
                "check the coordinator's data directory");
    return file.readAll();
}

}  // namespace raven::coordinator
