// RequesterClient::downloadCheckpoint: one DownloadCheckpoint request answered by a stream of
// CheckpointChunk; the content is assembled and verified by SHA-256 (protocol/Chunking.h), then
// written atomically, so a broken transfer never leaves half a checkpoint at `path`.
#include <QDir>
#include <QFileInfo>
#include <QSaveFile>

#include "base/Error.h"
#include "protocol/Chunking.h"
#include "protocol/Framing.h"
#include "protocol/ProtocolClient.h"
#include "requester/RequesterClient.h"

namespace raven::requester {

using protocol::ProtocolClient;

namespace {

// Writes atomically; an empty string on success, else why not.
QString writeFile(const QString& path, const QByteArray& bytes) {
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath()))
        return QStringLiteral("cannot create the folder %1").arg(info.absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
        return file.errorString();
    return {};
}

}  // namespace

void RequesterClient::downloadCheckpoint(const QString& jobId, std::uint64_t modelVersion, const QString& path,
                                         Reply<CheckpointDownloaded> reply,
                                         std::function<void(const DownloadProgress&)> progress) {
    if (!isReady()) {
        report(reply.failed, notReady("download a checkpoint"));
        return;
    }
    wire::Envelope request;
    wire::DownloadCheckpoint& download = *request.mutable_download_checkpoint();
    download.set_job_id(jobId.toStdString());
    download.set_model_version(modelVersion);
    download.set_accept_zstd(true);
    auto assembler = std::make_shared<protocol::ContentAssembler>();
    auto handler = [jobId, path, reply, progress, assembler](const wire::Envelope& answer) {
        const auto fail = [&](Failure f) {
            report(reply.failed, f);
            return ProtocolClient::ReplyFlow::Done;
        };
        if (answer.has_error()) {
            Failure f = Failure::fromError(answer.error());
            f.message = QStringLiteral("downloading the checkpoint of job %1: %2").arg(jobId, f.message);
            return fail(f);
        }
        if (!answer.has_checkpoint_chunk())
            return fail(
                {wire::ERROR_CODE_INTERNAL,
                 QStringLiteral("the coordinator answered %1 to DownloadCheckpoint").arg(protocol::payloadName(answer)),
                 hintFor(wire::ERROR_CODE_VERSION_MISMATCH)});
        const wire::CheckpointChunk& chunk = answer.checkpoint_chunk();
        try {
            assembler->add(chunk.content());
        } catch (const raven::Error& e) {
            return fail({wire::ERROR_CODE_INTERNAL,
                         QStringLiteral("the checkpoint of job %1 arrived damaged: %2")
                             .arg(jobId, QString::fromStdString(e.message())),
                         QStringLiteral("download it again; if it keeps failing, tell the coordinator's operator")});
        }
        if (progress) progress({assembler->receivedBytes(), chunk.content().total_bytes()});
        if (!assembler->complete()) return ProtocolClient::ReplyFlow::More;
        const QString problem = writeFile(path, assembler->content());
        if (!problem.isEmpty())
            return fail({wire::ERROR_CODE_UNSPECIFIED,
                         QStringLiteral("cannot write the checkpoint to %1: %2").arg(path, problem),
                         QStringLiteral("choose another file with -o, or free some space")});
        if (reply.done)
            reply.done({path, chunk.model_version(), std::int64_t(assembler->content().size()), assembler->sha256()});
        return ProtocolClient::ReplyFlow::Done;
    };
    try {
        connection_->request(std::move(request), std::move(handler));
    } catch (const raven::Error& e) {
        report(reply.failed, {wire::ERROR_CODE_INVALID_ARGUMENT, QString::fromStdString(e.message()),
                              QString::fromStdString(e.hint())});
    }
}

}  // namespace raven::requester
