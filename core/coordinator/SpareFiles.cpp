#include "coordinator/SpareFiles.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <atomic>
#include <cstdio>

namespace raven::coordinator {

namespace {

// Process-wide, so that two engines of one process (tests) never name two spares alike.
std::atomic<quint64> nextSpare{0};

}  // namespace

void SpareFiles::recycle(const QString& path) {
    const QFileInfo info(path);
    const QString directory = info.absolutePath();
    const qint64 size = info.size();
    if (!info.isFile()) return;  // gone already: nothing to keep or remove
    {
        std::lock_guard lock(mutex_);
        Pool& pool = pools_[directory];
        if (static_cast<int>(pool.files.size()) >= kPerDirectory || pool.bytes + size > kBytesPerDirectory) {
            QFile::remove(path);
            return;
        }
        pool.bytes += size;  // its room is held while it is renamed, outside the lock
    }
    QString spare;
    do {
        spare =
            QDir(directory).filePath(QStringLiteral("spare-%1").arg(nextSpare.fetch_add(1)) + QLatin1String(kSuffix));
    } while (QFile::exists(spare));
    const bool renamed = std::rename(QFile::encodeName(path).constData(), QFile::encodeName(spare).constData()) == 0;
    std::lock_guard lock(mutex_);
    Pool& pool = pools_[directory];
    if (renamed) {
        pool.files.emplace_back(spare, size);
    } else {
        pool.bytes -= size;
        QFile::remove(path);
    }
}

std::optional<QString> SpareFiles::take(const QString& directory) {
    std::lock_guard lock(mutex_);
    const auto it = pools_.find(QFileInfo(directory).absoluteFilePath());
    if (it == pools_.end() || it->second.files.empty()) return std::nullopt;
    auto [path, size] = std::move(it->second.files.back());
    it->second.files.pop_back();
    it->second.bytes -= size;
    return path;
}

void SpareFiles::discard(const QString& directory) {
    Pool pool;
    {
        std::lock_guard lock(mutex_);
        const auto it = pools_.find(QFileInfo(directory).absoluteFilePath());
        if (it == pools_.end()) return;
        pool = std::move(it->second);
        pools_.erase(it);
    }
    for (const auto& [path, size] : pool.files) QFile::remove(path);
}

int SpareFiles::count(const QString& directory) const {
    std::lock_guard lock(mutex_);
    const auto it = pools_.find(QFileInfo(directory).absoluteFilePath());
    return it == pools_.end() ? 0 : static_cast<int>(it->second.files.size());
}

}  // namespace raven::coordinator
