#include "coordinator/DurableFile.h"

#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>

#include <fcntl.h>
#include <unistd.h>

#include "base/Error.h"
#include "coordinator/SpareFiles.h"

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
std::atomic<quint64> filesWrittenOverSpares{0};

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

// The pieces one after the other in this thread's aligned scratch buffer, zero-padded to `padded`
// bytes; nullptr when memory is short.
char* gather(const QByteArrayList& pieces, std::size_t padded) {
    char* buffer = scratch.reserve(padded);
    if (!buffer) return nullptr;
    std::size_t at = 0;
    for (const QByteArray& piece : pieces) {
        std::memcpy(buffer + at, piece.constData(), static_cast<std::size_t>(piece.size()));
        at += static_cast<std::size_t>(piece.size());
    }
    std::memset(buffer + at, 0, padded - at);
    return buffer;
}

// pwrite() of `bytes` at `offset` whole. Written, NotSupported (EINVAL before anything was written:
// the file system wants another alignment) or Failed with the reason in `why`.
DirectOutcome writeAll(int fd, const char* bytes, std::size_t size, off_t offset, QString* why) {
    for (std::size_t done = 0; done < size;) {
        const ssize_t n = ::pwrite(fd, bytes + done, size - done, offset + static_cast<off_t>(done));
        if (n > 0) {
            done += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EINVAL && done == 0) {
            return DirectOutcome::NotSupported;
        } else {
            *why = QString::fromLocal8Bit(std::strerror(n < 0 ? errno : ENOSPC));
            return DirectOutcome::Failed;
        }
    }
    return DirectOutcome::Written;
}

std::size_t alignedUp(qsizetype size) {
    return (static_cast<std::size_t>(size) + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
}

// Writes the pieces as one new file at `path` with O_DIRECT and fsyncs it. NotSupported (nothing
// left behind but an empty file the caller truncates) when the file system refuses O_DIRECT.
DirectOutcome writeDirectly(const QString& path, const QByteArrayList& pieces, qsizetype size, QString* why) {
    const std::size_t padded = alignedUp(size);
    const char* buffer = gather(pieces, padded);
    if (!buffer) return DirectOutcome::NotSupported;
    const int fd =
        ::open(QFile::encodeName(path).constData(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0666);
    if (fd < 0) {
        if (errno == EINVAL) return DirectOutcome::NotSupported;
        *why = QString::fromLocal8Bit(std::strerror(errno));
        return DirectOutcome::Failed;
    }
    DirectOutcome outcome = writeAll(fd, buffer, padded, 0, why);
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

// Writes the pieces over the file at `spare` (SpareFiles.h), whose blocks the file system has
// allocated already: the aligned body with O_DIRECT, the last partial block through the page cache,
// the length set to the content's, then one fdatasync for all of it (it also flushes the disk's
// cache, which the O_DIRECT writes may still sit in). NotSupported when the spare cannot be opened
// (gone) or the file system refuses O_DIRECT: the caller writes a new file instead.
DirectOutcome writeOver(const QString& spare, const QByteArrayList& pieces, qsizetype size, QString* why) {
    const std::size_t body = static_cast<std::size_t>(size) / kDirectAlign * kDirectAlign;
    const char* buffer = gather(pieces, alignedUp(size));
    if (!buffer) return DirectOutcome::NotSupported;
    const QByteArray name = QFile::encodeName(spare);
    const int direct = ::open(name.constData(), O_WRONLY | O_DIRECT | O_CLOEXEC);
    if (direct < 0) return DirectOutcome::NotSupported;
    const int buffered = ::open(name.constData(), O_WRONLY | O_CLOEXEC);
    if (buffered < 0) {
        ::close(direct);
        return DirectOutcome::NotSupported;
    }
    DirectOutcome outcome = writeAll(direct, buffer, body, 0, why);
    if (outcome == DirectOutcome::Written)
        outcome =
            writeAll(buffered, buffer + body, static_cast<std::size_t>(size) - body, static_cast<off_t>(body), why);
    if (outcome == DirectOutcome::Written &&
        (::ftruncate(buffered, static_cast<off_t>(size)) != 0 || ::fdatasync(buffered) != 0)) {
        *why = QString::fromLocal8Bit(std::strerror(errno));
        outcome = DirectOutcome::Failed;
    }
    ::close(buffered);
    ::close(direct);
    if (outcome == DirectOutcome::Written) {
        if (body > 0) filesWrittenDirectly.fetch_add(1, std::memory_order_relaxed);
        filesWrittenOverSpares.fetch_add(1, std::memory_order_relaxed);
    }
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
                  const std::function<void()>& beforeRename, SpareFiles* spares) {
    std::vector<QString> temporaries;
    const auto cleanUp = [&] {
        for (const QString& t : temporaries) QFile::remove(t);
    };
    for (const auto& [path, pieces] : files) {
        QString temporary = path + QStringLiteral(".partial");
        qsizetype size = 0;
        for (const QByteArray& piece : pieces) size += piece.size();
        QString why;
        DirectOutcome direct = DirectOutcome::NotSupported;
        if (spares) {
            if (const std::optional<QString> spare = spares->take(QFileInfo(path).absolutePath())) {
                direct = writeOver(*spare, pieces, size, &why);
                if (direct == DirectOutcome::NotSupported) QFile::remove(*spare);
                if (direct != DirectOutcome::NotSupported) temporary = *spare;
            }
        }
        if (size >= kDirectFrom && direct == DirectOutcome::NotSupported)
            direct = writeDirectly(temporary, pieces, size, &why);
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

quint64 filesWrittenOverSpareFiles() { return filesWrittenOverSpares.load(std::memory_order_relaxed); }

QByteArray readWhole(const QString& path) {
    QFile file(path);
    RAVEN_CHECK(file.open(QIODevice::ReadOnly),
                "cannot read " + path.toStdString() + ": " + file.errorString().toStdString(),
                "check the coordinator's data directory");
    return file.readAll();
}

}  // namespace raven::coordinator
