#include "coordinator/ResultFile.h"

#include <QFile>
#include <QJsonDocument>
#include <QtEndian>

#include <cstring>

#include "base/Error.h"
#include "coordinator/DurableFile.h"

namespace raven::coordinator {

namespace {

constexpr qsizetype kMagicSize = 8;
constexpr qsizetype kLengthSize = 4;
constexpr qsizetype kEndSize = 8;
// A header is a few hundred bytes; anything near this is not a result file's header.
constexpr quint32 kMaxHeader = 1 << 20;

[[noreturn]] void damaged(const QString& path, const std::string& what) {
    fail(path.toStdString() + " is not a whole result file: " + what,
         "the file was damaged after it was written (disk or manual change); remove it and the coordinator "
         "leases its work unit again if the store has not accepted it, else restore the job's directory");
}

QJsonObject headerOf(const QByteArray& bytes, const QString& path, qsizetype* gradientAt) {
    if (bytes.size() < kMagicSize + kLengthSize || std::memcmp(bytes.constData(), ResultFile::kMagic, kMagicSize) != 0)
        damaged(path, "it does not start with " + std::string(ResultFile::kMagic));
    const quint32 length = qFromLittleEndian<quint32>(bytes.constData() + kMagicSize);
    if (length > kMaxHeader || bytes.size() < kMagicSize + kLengthSize + static_cast<qsizetype>(length))
        damaged(path, "its header is cut off (" + std::to_string(bytes.size()) + " bytes)");
    QJsonParseError error;
    const QJsonDocument header =
        QJsonDocument::fromJson(bytes.mid(kMagicSize + kLengthSize, static_cast<qsizetype>(length)), &error);
    if (error.error != QJsonParseError::NoError || !header.isObject())
        damaged(path, "its header is not a JSON object (" + error.errorString().toStdString() + ")");
    *gradientAt = kMagicSize + kLengthSize + static_cast<qsizetype>(length);
    return header.object();
}

}  // namespace

QByteArrayList ResultFile::pieces(ledger::ContributorId contributor, const protocol::WorkResult& result,
                                  const QString& sha256) {
    QJsonObject info;
    info["values"] = static_cast<qint64>(result.gradient.size());
    info["samples"] = static_cast<qint64>(result.sampleCount);
    info["loss_sum"] = result.loss;
    info["correct"] = static_cast<qint64>(result.correct);
    info["contributor"] = contributor;
    info["compute_ms"] = static_cast<qint64>(result.computeMs);
    // The kernels it was computed with: a verifiable result can be replayed bit for bit later.
    info["kernel_mode"] = result.kernelMode == wire::KERNEL_MODE_VERIFIABLE ? "verifiable" : "fast";
    if (!sha256.isEmpty()) info["payload_sha256"] = sha256;  // of the bytes as received (before decoding)
    const QByteArray json = QJsonDocument(info).toJson(QJsonDocument::Compact);
    QByteArray header(kMagic, kMagicSize);
    char length[kLengthSize];
    qToLittleEndian<quint32>(static_cast<quint32>(json.size()), length);
    header.append(length, kLengthSize).append(json);
    static_assert(Q_BYTE_ORDER == Q_LITTLE_ENDIAN, "result files hold little-endian float32 as the host does");
    const auto gradient = QByteArray::fromRawData(reinterpret_cast<const char*>(result.gradient.data()),
                                                  static_cast<qsizetype>(result.gradient.size() * sizeof(float)));
    return {header, gradient, QByteArray::fromRawData(kEnd, kEndSize)};
}

StoredResult ResultFile::parse(const QByteArray& bytes, const QString& path, std::int64_t parameters,
                               QJsonObject* info) {
    qsizetype at = 0;
    const QJsonObject header = headerOf(bytes, path, &at);
    const std::int64_t values = header.value("values").toInteger(-1);
    if (values != parameters)
        damaged(path, "it holds " + std::to_string(values) + " values where the model has " + std::to_string(parameters));
    const qsizetype gradientBytes = static_cast<qsizetype>(values) * static_cast<qsizetype>(sizeof(float));
    if (bytes.size() != at + gradientBytes + kEndSize)
        damaged(path, std::to_string(bytes.size()) + " bytes where its header promises " +
                          std::to_string(at + gradientBytes + kEndSize) + " (torn or appended to)");
    if (std::memcmp(bytes.constData() + at + gradientBytes, kEnd, kEndSize) != 0)
        damaged(path, "it does not end with " + std::string(kEnd));
    StoredResult r;
    r.gradient.resize(static_cast<std::size_t>(values));
    std::memcpy(r.gradient.data(), bytes.constData() + at, static_cast<std::size_t>(gradientBytes));
    r.samples = header.value("samples").toInteger();
    r.lossSum = header.value("loss_sum").toDouble();
    r.correct = header.value("correct").toInteger();
    r.contributor = header.value("contributor").toInteger();
    if (info) *info = header;
    return r;
}

StoredResult ResultFile::read(const QString& path, std::int64_t parameters, QJsonObject* info) {
    return parse(readWhole(path), path, parameters, info);
}

QJsonObject ResultFile::info(const QString& path) {
    qsizetype at = 0;
    return headerOf(readWhole(path), path, &at);
}

}  // namespace raven::coordinator
