#include "protocol/Compression.h"

#include <zstd.h>

#include <string>

#include "base/Error.h"
#include "protocol/Protocol.h"

namespace raven::protocol {

QByteArray zstdCompress(QByteArrayView raw, int level) {
    QByteArray out(static_cast<qsizetype>(ZSTD_compressBound(static_cast<size_t>(raw.size()))), Qt::Uninitialized);
    const size_t written =
        ZSTD_compress(out.data(), static_cast<size_t>(out.size()), raw.data(), static_cast<size_t>(raw.size()), level);
    RAVEN_ASSERT(!ZSTD_isError(written), std::string("zstd could not compress: ") + ZSTD_getErrorName(written));
    out.truncate(static_cast<qsizetype>(written));
    return out;
}

std::optional<QByteArray> zstdIfItPays(QByteArrayView raw) {
    constexpr qsizetype kSample = 16 * 1024;
    const auto pays = [](qsizetype compressed, qsizetype from) {
        return static_cast<double>(compressed) <= 0.9 * static_cast<double>(from);
    };
    if (raw.size() > 3 * kSample) {
        qsizetype sampled = 0;
        for (const qsizetype quarter : {1, 2, 3})
            sampled += zstdCompress(raw.sliced(raw.size() * quarter / 4 - kSample / 2, kSample)).size();
        if (!pays(sampled, 3 * kSample)) return std::nullopt;
    }
    QByteArray compressed = zstdCompress(raw);
    if (!pays(compressed.size(), raw.size())) return std::nullopt;
    return compressed;
}

QByteArray zstdDecompress(QByteArrayView compressed, std::uint64_t expectedRawBytes) {
    const unsigned long long declared =
        ZSTD_getFrameContentSize(compressed.data(), static_cast<size_t>(compressed.size()));
    RAVEN_CHECK(declared != ZSTD_CONTENTSIZE_ERROR,
                "payload of " + std::to_string(compressed.size()) + " bytes is marked zstd but is not a zstd frame",
                "the sender's zstd flag is wrong, or the transfer was corrupted; fetch it again");
    // Raven's senders always write the frame's content size (ZSTD_compress does). Without it, the
    // receiver would have to size its buffer from the peer's announcement alone: 115 bytes could
    // make it allocate its whole bound.
    RAVEN_CHECK(declared != ZSTD_CONTENTSIZE_UNKNOWN,
                "zstd payload of " + std::to_string(compressed.size()) + " bytes does not declare its content size",
                "compress with ZSTD_compress (protocol::zstdCompress), which records the size in the frame");
    RAVEN_CHECK(declared == expectedRawBytes,
                "zstd payload declares " + std::to_string(declared) + " bytes where " +
                    std::to_string(expectedRawBytes) + " were announced",
                "the sender is inconsistent or the transfer was corrupted; fetch it again");
    QByteArray out(static_cast<qsizetype>(expectedRawBytes), Qt::Uninitialized);
    const size_t written = ZSTD_decompress(out.data(), static_cast<size_t>(expectedRawBytes), compressed.data(),
                                           static_cast<size_t>(compressed.size()));
    RAVEN_CHECK(!ZSTD_isError(written), std::string("cannot decompress zstd payload: ") + ZSTD_getErrorName(written),
                "the transfer was corrupted or truncated; fetch it again");
    RAVEN_CHECK(written == expectedRawBytes,
                "zstd payload expands to " + std::to_string(written) + " bytes where " +
                    std::to_string(expectedRawBytes) + " were announced",
                "the sender is inconsistent or the transfer was corrupted; fetch it again");
    return out;
}

}  // namespace raven::protocol
