#pragma once
// Files the coordinator's crash safety rests on: written whole or not at all, and on the disk (not
// only in the page cache) before the caller goes on to tell the store or a peer about them.
//
//   writeDurably(dir.filePath("state.safetensors"), bytes);   // then store.setJobModelVersion(...)
//
// QSaveFile writes a temporary file, fsyncs it and renames it over the target; the directory is
// fsynced afterwards so that the rename itself survives a power cut.
#include <QByteArray>
#include <QByteArrayList>
#include <QString>

#include <functional>
#include <utility>
#include <vector>

namespace raven::coordinator {

class SpareFiles;

// raven::Error naming the file when it cannot be written.
void writeDurably(const QString& path, const QByteArray& bytes);
// Group commit: every file written to a temporary (<path>.partial) from its pieces in order, each
// fsynced (from 64 KiB up with O_DIRECT, past the page cache, where the file system allows it),
// then all renamed over their targets and each directory fsynced once (not once per file).
// A crash leaves any subset of the targets replaced, each whole. raven::Error naming the first file
// that cannot be written (none renamed). `beforeRename`, when given, runs once all temporaries are
// durable and none is renamed yet (a crash point). With `spares`, a file is written over a spare of
// its directory instead, where there is one (SpareFiles.h), and that is renamed.
void writeDurably(const std::vector<std::pair<QString, QByteArrayList>>& files,
                  const std::function<void()>& beforeRename = {}, SpareFiles* spares = nullptr);
// How many files this process's group commits wrote with O_DIRECT (tests, benchmarks).
quint64 filesWrittenPastThePageCache();
// How many of them were written over a spare (SpareFiles.h).
quint64 filesWrittenOverSpareFiles();
// The whole file; raven::Error naming it when it cannot be read.
QByteArray readWhole(const QString& path);

}  // namespace raven::coordinator
