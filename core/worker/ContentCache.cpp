#include "worker/ContentCache.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QLockFile>
#include <QRegularExpression>
#include <QtEndian>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "base/Error.h"
#include "data/FileBytes.h"
#include "data/Sha256.h"

namespace raven::worker {
namespace {

constexpr char kMagic[8] = {'R', 'V', 'N', 'C', 'A', 'C', 'H', 'E'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr qsizetype kRetentionOffset = 12;
const QString kSuffix = QStringLiteral(".rvc");
const QString kLockName = QStringLiteral(".lock");

using data::sha256;
using data::str;

QByteArray makeHeader(const QByteArray& payload, ContentCache::Retention retention, const QByteArray& knownSha256) {
    QByteArray header(ContentCache::kHeaderBytes, '\0');
    char* h = header.data();
    std::copy(std::begin(kMagic), std::end(kMagic), h);
    qToLittleEndian<std::uint32_t>(kFormatVersion, h + 8);
    qToLittleEndian<std::uint32_t>(static_cast<std::uint32_t>(retention), h + kRetentionOffset);
    qToLittleEndian<std::uint64_t>(static_cast<std::uint64_t>(payload.size()), h + 16);
    const QByteArray digest = knownSha256.size() == 32 ? knownSha256 : sha256(payload);
    std::copy(digest.begin(), digest.end(), h + 24);
    return header;
}

struct Header {
    std::uint64_t payloadBytes = 0;
    ContentCache::Retention retention = ContentCache::Retention::Keep;
    QByteArray digest;
};

// The header of an entry's file, or nullopt when the bytes are not one.
std::optional<Header> parseHeader(const QByteArray& bytes) {
    if (bytes.size() < ContentCache::kHeaderBytes || !std::equal(std::begin(kMagic), std::end(kMagic), bytes.data()))
        return std::nullopt;
    if (qFromLittleEndian<std::uint32_t>(bytes.data() + 8) != kFormatVersion) return std::nullopt;
    Header h;
    const auto retention = qFromLittleEndian<std::uint32_t>(bytes.data() + kRetentionOffset);
    h.retention = retention == 1 ? ContentCache::Retention::EvictFirst : ContentCache::Retention::Keep;
    h.payloadBytes = qFromLittleEndian<std::uint64_t>(bytes.data() + 16);
    h.digest = bytes.mid(24, 32);
    return h;
}

}  // namespace

bool ContentCache::isValidName(const QString& name) {
    static const QRegularExpression segment(QStringLiteral("^[A-Za-z0-9_-][A-Za-z0-9_.-]*$"));
    if (name.isEmpty()) return false;
    const QStringList parts = name.split(QLatin1Char('/'));
    return std::all_of(parts.begin(), parts.end(), [](const QString& p) { return segment.match(p).hasMatch(); });
}

ContentCache::ContentCache(const QString& directory, std::int64_t maxBytes)
    : dir_(QDir::cleanPath(directory)), maxBytes_(maxBytes) {
    RAVEN_CHECK(maxBytes_ > 0, "cache size " + std::to_string(maxBytes_) + " bytes is not positive",
                "give the cache some room, e.g. --cache-bytes 2147483648 (2 GiB)");
    RAVEN_CHECK(QDir().mkpath(dir_), "cannot create the cache directory " + str(dir_),
                "check that its parent exists and is writable, or choose another --cache-dir");
    lock_ = std::make_unique<QLockFile>(dir_ + QLatin1Char('/') + kLockName);
    lock_->setStaleLockTime(0);  // only a live process holds it; a dead one's lock is taken over
    if (!lock_->tryLock(0)) {
        qint64 pid = 0;
        QString host, app;
        lock_->getLockInfo(&pid, &host, &app);
        fail("the cache directory " + str(dir_) + " is in use by another worker (pid " + std::to_string(pid) + ")",
             "give each worker its own --cache-dir");
    }
    scan();
    makeRoom(0, {});
}

ContentCache::~ContentCache() = default;

QString ContentCache::pathOf(const QString& name) const { return dir_ + QLatin1Char('/') + name + kSuffix; }

void ContentCache::scan() {
    QDirIterator it(dir_, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QString relative = QDir(dir_).relativeFilePath(path);
        if (relative == kLockName) continue;
        const QString name = relative.endsWith(kSuffix) ? relative.chopped(kSuffix.size()) : QString();
        QFile file(path);
        std::optional<Header> header;
        if (isValidName(name) && file.open(QIODevice::ReadOnly)) header = parseHeader(file.read(kHeaderBytes));
        const QFileInfo info(path);
        if (!header || static_cast<std::uint64_t>(info.size() - kHeaderBytes) != header->payloadBytes) {
            // A temporary file left by a crash, a truncated entry, something that is not ours to keep.
            file.close();
            QFile::remove(path);
            continue;
        }
        Entry entry;
        entry.fileBytes = info.size();
        entry.lastUse = info.lastModified().toMSecsSinceEpoch();
        entry.retention = header->retention;
        clock_ = std::max(clock_, entry.lastUse);
        totalBytes_ += entry.fileBytes;
        entries_.insert(name, entry);
    }
}

void ContentCache::touch(const QString& name, Entry& entry) {
    clock_ = std::max<std::int64_t>(clock_ + 1, QDateTime::currentMSecsSinceEpoch());
    entry.lastUse = clock_;
    QFile file(pathOf(name));
    // Recency on disk is best effort: a file whose time cannot be set only ages faster.
    if (file.open(QIODevice::ReadWrite))
        file.setFileTime(QDateTime::fromMSecsSinceEpoch(entry.lastUse), QFileDevice::FileModificationTime);
}

void ContentCache::drop(const QString& name) {
    auto it = entries_.find(name);
    if (it == entries_.end()) return;
    totalBytes_ -= it->fileBytes;
    entries_.erase(it);
    QFile::remove(pathOf(name));
}

void ContentCache::makeRoom(std::int64_t bytes, const QString& keep) {
    if (totalBytes_ + bytes <= maxBytes_) return;
    struct Victim {
        Retention retention;
        std::int64_t lastUse;
        QString name;
    };
    std::vector<Victim> victims;
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it.key() != keep) victims.push_back({it->retention, it->lastUse, it.key()});
    // EvictFirst before Keep, then the least recently used first.
    std::sort(victims.begin(), victims.end(), [](const Victim& a, const Victim& b) {
        if (a.retention != b.retention) return a.retention == Retention::EvictFirst;
        if (a.lastUse != b.lastUse) return a.lastUse < b.lastUse;
        return a.name < b.name;
    });
    for (const Victim& v : victims) {
        if (totalBytes_ + bytes <= maxBytes_) break;
        drop(v.name);
    }
}

bool ContentCache::put(const QString& name, const QByteArray& bytes, Retention retention,
                       const QByteArray& knownSha256) {
    RAVEN_CHECK(isValidName(name), "'" + str(name) + "' is not a cache entry name",
                "names are '/'-separated segments of letters, digits, '_', '-' and '.'");
    const std::int64_t fileBytes = kHeaderBytes + bytes.size();
    if (fileBytes > maxBytes_) return false;
    drop(name);
    makeRoom(fileBytes, name);
    const QString path = pathOf(name);
    RAVEN_CHECK(QDir().mkpath(QFileInfo(path).path()), "cannot create the cache folder for " + str(path),
                "check that " + str(dir_) + " is writable");
    // Written to a temporary and renamed over the entry, but never fsynced: an fsync per shard held
    // the worker's protocol thread 5-15 ms each (32 shards a step in bench/distributed), and a cache
    // need not survive a power cut whole. Every read checks the payload's SHA-256 against the header
    // (get()), so an entry a power cut tore is found, deleted and fetched again; a process crash
    // leaves the old entry or the new one, and the temporary (not an entry) is deleted at the next open.
    const QString temporary = path + QStringLiteral(".writing");
    QFile file(temporary);
    const auto failed = [&] { return "cannot write the cache entry " + str(path) + ": " + str(file.errorString()); };
    RAVEN_CHECK(file.open(QIODevice::WriteOnly | QIODevice::Truncate), failed(),
                "check that " + str(dir_) + " is writable");
    const QByteArray header = makeHeader(bytes, retention, knownSha256);
    const bool written = file.write(header) == header.size() && file.write(bytes) == bytes.size() && file.flush();
    file.close();
    if (!written || ::rename(QFile::encodeName(temporary).constData(), QFile::encodeName(path).constData()) != 0) {
        const std::string message = failed();
        QFile::remove(temporary);
        fail(message, "check that the disk is not full, or give the worker a smaller --cache-bytes");
    }
    Entry entry;
    entry.fileBytes = fileBytes;
    entry.retention = retention;
    touch(name, entry);
    entries_.insert(name, entry);
    totalBytes_ += fileBytes;
    return true;
}

std::optional<QByteArray> ContentCache::get(const QString& name, QByteArray* verifiedSha256) {
    auto it = entries_.find(name);
    if (it == entries_.end()) return std::nullopt;
    ++reads_;
    QFile file(pathOf(name));
    std::optional<Header> header;
    QByteArray payload;
    if (file.open(QIODevice::ReadOnly)) {
        header = parseHeader(file.read(kHeaderBytes));
        payload = file.readAll();
    }
    file.close();
    if (!header || static_cast<std::uint64_t>(payload.size()) != header->payloadBytes ||
        sha256(payload) != header->digest) {
        ++corrupt_;
        drop(name);
        return std::nullopt;
    }
    touch(name, *it);
    if (verifiedSha256) *verifiedSha256 = header->digest;
    return payload;
}

void ContentCache::remove(const QString& name) { drop(name); }

void ContentCache::setRetention(const QString& name, Retention retention) {
    auto it = entries_.find(name);
    if (it == entries_.end() || it->retention == retention) return;
    it->retention = retention;
    // One aligned word in place: the header's checksum covers the payload only, and a torn write of
    // a hint cannot corrupt an entry.
    QFile file(pathOf(name));
    if (file.open(QIODevice::ReadWrite) && file.seek(kRetentionOffset)) {
        char word[4];
        qToLittleEndian<std::uint32_t>(static_cast<std::uint32_t>(retention), word);
        file.write(word, 4);
        file.flush();
        // Writing moved the modification time, which is the entry's recency: put it back.
        file.setFileTime(QDateTime::fromMSecsSinceEpoch(it->lastUse), QFileDevice::FileModificationTime);
    }
}

std::optional<ContentCache::Retention> ContentCache::retention(const QString& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) return std::nullopt;
    return it->retention;
}

QStringList ContentCache::names(const QString& prefix) const {
    std::vector<std::pair<std::int64_t, QString>> ordered;
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it.key().startsWith(prefix)) ordered.emplace_back(it->lastUse, it.key());
    std::sort(ordered.begin(), ordered.end());
    QStringList out;
    for (auto& [use, name] : ordered) out.append(name);
    return out;
}

}  // namespace raven::worker
