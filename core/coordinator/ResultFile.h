#pragma once
// ResultFile: an accepted result on disk as ONE file, so that group commit writes and fsyncs one
// file per result instead of a gradient file and an info file (half the fsyncs and renames).
//
//   jobs/<id>/results/<unit>.result
//     "RAVENRS1"                  8 bytes: magic and format version 1
//     header length H             4 bytes, unsigned little-endian
//     header                      H bytes of JSON: values (the gradient's length), samples, loss_sum,
//                                 correct, contributor, compute_ms, kernel_mode, payload_sha256
//     gradient                    values x float32, little-endian, parameter order
//     "RAVENEND"                  8 bytes: the writer got to the end
//
//   writeDurably({{files.resultPath(unit), ResultFile::pieces(contributor, result, sha256)}});
//   StoredResult r = ResultFile::read(files.resultPath(unit), parameterCount);
//
// The file is written under a temporary name, fsynced and renamed (DurableFile.h), so a crash never
// leaves a torn one under its own name; a file damaged afterwards (truncated, overwritten, not a
// result) is refused by read() with raven::Error naming it and what is wrong, never read as zeros.
// The layout before (<unit>.f32 and <unit>.json, JobFiles.h) is still read: a coordinator
// upgraded after a crash in the middle of a step finds its accepted results that way.
#include <QByteArray>
#include <QByteArrayList>
#include <QJsonObject>
#include <QString>

#include "coordinator/OrderedGradientSum.h"
#include "ledger/StoreTypes.h"
#include "protocol/GradientCodec.h"

namespace raven::coordinator {

class ResultFile {
public:
    static constexpr char kMagic[] = "RAVENRS1";
    static constexpr char kEnd[] = "RAVENEND";

    // The file's bytes in three pieces (header, gradient, end), to be written one after the other.
    // The gradient piece is `result`'s own memory (little-endian hosts), no copy: write it while
    // `result` lives. `sha256` is the payload's hash as received (recorded when not empty).
    static QByteArrayList pieces(ledger::ContributorId contributor, const protocol::WorkResult& result,
                                 const QString& sha256);
    // The result in `bytes` (the file at `path`, named in errors), which must hold `parameters`
    // values; its header in `info` when given. raven::Error when it is torn, damaged or of another size.
    static StoredResult parse(const QByteArray& bytes, const QString& path, std::int64_t parameters,
                              QJsonObject* info = nullptr);
    // parse() of the file at `path` (raven::Error when it cannot be read).
    static StoredResult read(const QString& path, std::int64_t parameters, QJsonObject* info = nullptr);
    // The header alone (raven::Error as parse()).
    static QJsonObject info(const QString& path);
};

}  // namespace raven::coordinator
