#pragma once
// ContentCache: the worker's bounded disk cache of what it fetched from coordinators (shards,
// manifests, model weights), so that a contributor who computes the same dataset again, or
// restarts, does not download it again.
//
//   ContentCache cache("/var/cache/raven-worker", 2LL << 30);   // scans what an earlier run left
//   cache.put("shards/3fa2...e9", bytes);
//   cache.put("weights/17/41", weights, ContentCache::Retention::EvictFirst);
//   if (auto bytes = cache.get("shards/3fa2...e9")) use(*bytes);   // verified, or nullopt
//
// The model:
//  - Entries by name: '/'-separated segments of [A-Za-z0-9_.-] that do not start with '.'. The
//    worker names them "shards/<sha256>", "manifests/<dataset id>", "weights/<job>/<version>".
//  - Each entry is one file, <dir>/<name>.rvc: a 56-byte header (magic "RVNCACHE", format version,
//    retention, payload size, SHA-256 of the payload) then the payload. Writes are atomic (a temporary
//    renamed over the entry): a crash leaves the old entry or the new one, never half of one. They are
//    not fsynced (the next point catches what a power cut tore).
//  - Reads are verified: a payload whose SHA-256 is not the header's (a damaged disk, an edit) is
//    deleted and get() answers nullopt, so the caller fetches it again. Nothing unverified is returned.
//    The worker reads a shard from here once: decoded, it stays in memory (DecodedShards.h).
//  - Bounded: the files (headers included) never exceed maxBytes. Before an entry is written the least
//    recently used entries are deleted until it fits, EvictFirst entries (weights of versions the
//    worker has moved past) before Keep ones. An entry larger than the whole bound is not stored.
//  - Recency is the file's modification time, refreshed by get() and put(), so the order survives
//    restarts; the retention is kept in the header for the same reason.
//  - One process per directory: a lock file (<dir>/.lock) refuses a second cache on the same folder.
//    Files that are not entries (a temporary file a crash left, a truncated entry) are deleted when
//    the cache opens. One thread: the worker uses it from its protocol thread only.
#include <QByteArray>
#include <QHash>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <memory>
#include <optional>

class QLockFile;

namespace raven::worker {

class ContentCache {
public:
    enum class Retention : std::uint8_t {
        Keep = 0,        // evicted by recency only
        EvictFirst = 1,  // evicted before any Keep entry (superseded weights)
    };

    // Opens (creating it) the directory, takes its lock and indexes the entries there, deleting
    // non-entries and, when the entries exceed maxBytes (a smaller bound than last time), the least
    // recently used ones. raven::Error when the directory cannot be created or another process holds it.
    ContentCache(const QString& directory, std::int64_t maxBytes);
    ~ContentCache();
    ContentCache(const ContentCache&) = delete;
    ContentCache& operator=(const ContentCache&) = delete;

    // Stores `bytes` under `name`, replacing an entry of that name. Returns false, storing nothing,
    // when the entry alone exceeds maxBytes. raven::Error for a bad name or when the file cannot be
    // written (disk full); the cache stays consistent either way. knownSha256: the payload's raw
    // 32-byte SHA-256 when the caller has just verified it (a transfer's), so it is not hashed again.
    bool put(const QString& name, const QByteArray& bytes, Retention retention = Retention::Keep,
             const QByteArray& knownSha256 = {});
    // The verified payload, marked as just used; nullopt when absent, or when it was corrupt (then
    // deleted). verifiedSha256: set to the raw SHA-256 the payload was just checked against, so a
    // caller that names content by its hash compares names instead of hashing the bytes again.
    std::optional<QByteArray> get(const QString& name, QByteArray* verifiedSha256 = nullptr);
    bool contains(const QString& name) const { return entries_.contains(name); }
    void remove(const QString& name);
    // Changes an entry's retention (a no-op for an absent one).
    void setRetention(const QString& name, Retention retention);
    std::optional<Retention> retention(const QString& name) const;

    // Entry names starting with `prefix`, least recently used first.
    QStringList names(const QString& prefix = {}) const;
    // Bytes on disk of all entries (headers included) and the bound.
    std::int64_t totalBytes() const { return totalBytes_; }
    std::int64_t maxBytes() const { return maxBytes_; }
    const QString& directory() const { return dir_; }
    // Entries deleted because their payload did not verify, since the cache opened.
    std::int64_t corruptEntries() const { return corrupt_; }
    // Entries read (and so verified) by get(), since the cache opened.
    std::int64_t reads() const { return reads_; }

    // Size of the header each entry's file adds to its payload.
    static constexpr std::int64_t kHeaderBytes = 56;
    static bool isValidName(const QString& name);

private:
    struct Entry {
        std::int64_t fileBytes = 0;
        std::int64_t lastUse = 0;  // ms since the epoch (the file's modification time)
        Retention retention = Retention::Keep;
    };

    QString pathOf(const QString& name) const;
    void scan();
    void touch(const QString& name, Entry& entry);
    void makeRoom(std::int64_t bytes, const QString& keep);
    void drop(const QString& name);

    QString dir_;
    std::int64_t maxBytes_;
    std::unique_ptr<QLockFile> lock_;
    QHash<QString, Entry> entries_;
    std::int64_t totalBytes_ = 0;
    std::int64_t clock_ = 0;  // the last lastUse handed out: recency must be strictly increasing
    std::int64_t corrupt_ = 0;
    std::int64_t reads_ = 0;
};

}  // namespace raven::worker
