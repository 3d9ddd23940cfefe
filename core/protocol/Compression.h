#pragma once
// zstd for payloads (shards, weights, gradients, checkpoints). One zstd frame per content; the
// decompressor is told the size it expects, so a hostile peer cannot make it allocate more.
#include <QByteArray>
#include <QByteArrayView>
#include <cstdint>

namespace raven::protocol {

// Level 3 is zstd's default: about 300 MB/s per core, and gradients gain little from higher levels.
QByteArray zstdCompress(QByteArrayView raw, int level = 3);

// Decompresses one zstd frame that must expand to exactly `expectedRawBytes`. Throws raven::Error
// when the bytes are not zstd, are truncated, or expand to any other size.
QByteArray zstdDecompress(QByteArrayView compressed, std::uint64_t expectedRawBytes);

}  // namespace raven::protocol
