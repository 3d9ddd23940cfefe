#pragma once
// zstd for payloads (shards, weights, gradients, checkpoints). One zstd frame per content; the
// decompressor is told the size it expects, so a hostile peer cannot make it allocate more.
#include <QByteArray>
#include <QByteArrayView>
#include <cstdint>
#include <optional>

namespace raven::protocol {

// Level 3 is zstd's default: about 300 MB/s per core, and gradients gain little from higher levels.
QByteArray zstdCompress(QByteArrayView raw, int level = 3);

// The zstd frame of `raw` where it saves at least a tenth of the bytes; nothing otherwise. Past
// 48 KiB, three 16 KiB samples (a quarter, half and three quarters in) are tried first, so that a
// content zstd cannot shrink costs about 0.2 ms to turn down whatever its size. Trained fp32
// weights save about 7%, for a compression on the sender and a decompression on every receiver: a
// sixth of an emulated worker's CPU went to decompressing them (docs/benchmarks.md, "Where an
// 8-worker step goes"). Shards and manifests shrink several-fold.
std::optional<QByteArray> zstdIfItPays(QByteArrayView raw);

// Decompresses one zstd frame that must expand to exactly `expectedRawBytes`. Throws raven::Error
// when the bytes are not zstd, are truncated, or expand to any other size.
QByteArray zstdDecompress(QByteArrayView compressed, std::uint64_t expectedRawBytes);

}  // namespace raven::protocol
