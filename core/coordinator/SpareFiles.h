#pragma once
// SpareFiles: result files of steps already applied, kept to be written over by the next results.
//
//   spares.recycle(path);                      // instead of removing an applied step's result file
//   std::optional<QString> f = spares.take(dir);   // one to write the next result over (DurableFile.h)
//   spares.discard(dir);                       // the job ended: its spares go
//
// Why: a result written into a new file makes the file system allocate and journal its blocks, which
// on these machines' ext4 made writing and fsyncing the MLP's 0.94 MB result take 1.2 ms; written over
// the blocks of a file that is already there and fdatasynced, 0.6 ms (docs/benchmarks.md, "twenty-first
// session"). That write sits on every step's path between a worker's last result and the next grants.
//
// A spare is renamed to <dir>/spare-<n>.spare, holding a result nobody reads any more. It is written over,
// fdatasynced and only then renamed to the new result's name, so a crash leaves a torn spare at worst,
// which start-up removes with every other leftover (JobRunner::removeResultsExcept). A directory keeps
// at most kBytesPerDirectory bytes of spares (a step's results, up to a large model's few) and
// kPerDirectory files; other files are removed. Any thread.
#include <QString>

#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace raven::coordinator {

class SpareFiles {
public:
    static constexpr int kPerDirectory = 1024;
    static constexpr qint64 kBytesPerDirectory = 256LL << 20;
    static constexpr char kSuffix[] = ".spare";

    // Keeps the file at `path` as a spare of its directory, or removes it when there is no room.
    void recycle(const QString& path);
    // A spare of `directory` (absolute or as recycled), taken out of the pool; none when there is none.
    std::optional<QString> take(const QString& directory);
    // Removes the spares of `directory` from the disk and the pool.
    void discard(const QString& directory);
    // How many spares `directory` holds now.
    int count(const QString& directory) const;

private:
    struct Pool {
        std::vector<std::pair<QString, qint64>> files;  // path, size
        qint64 bytes = 0;
    };
    mutable std::mutex mutex_;
    std::map<QString, Pool> pools_;
    quint64 next_ = 0;
};

}  // namespace raven::coordinator
