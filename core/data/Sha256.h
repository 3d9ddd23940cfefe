#pragma once
// Sha256: SHA-256 through OpenSSL (its SHA extensions and AVX2 code) for every content hash Raven
// takes: shards, gradients, weights, cache entries, states. QCryptographicHash's portable C is about
// seven times slower (0.95 ms against 6.8 ms for an MLP's 0.94 MB gradient on this machine, loaded),
// and the coordinator and the workers hash every result, shard and weights file they take in.
//
//   QString name = sha256Hex(bytes);            // 64 lowercase hex digits
//   QByteArray raw = sha256(bytes);             // 32 bytes
//   Sha256 h; h.add(a); h.add(b); QByteArray d = h.finish();   // in pieces
#include <QByteArray>
#include <QByteArrayView>
#include <QString>

struct evp_md_ctx_st;

namespace raven::data {

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void add(QByteArrayView bytes);
    // The 32-byte digest of everything added; the hash cannot take more after it.
    QByteArray finish();

private:
    evp_md_ctx_st* context_;
};

QByteArray sha256(QByteArrayView bytes);
QString sha256Hex(QByteArrayView bytes);

}  // namespace raven::data
