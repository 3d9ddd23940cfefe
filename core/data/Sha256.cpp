#include "data/Sha256.h"

#include <openssl/evp.h>

#include "base/Error.h"

namespace raven::data {

namespace {

void requireOpenSsl(bool ok) {
    RAVEN_CHECK(ok, "SHA-256 failed in OpenSSL", "check the OpenSSL installation (libssl3)");
}

}  // namespace

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
    requireOpenSsl(context_ != nullptr && EVP_DigestInit_ex(context_, EVP_sha256(), nullptr) == 1);
}

Sha256::~Sha256() { EVP_MD_CTX_free(context_); }

void Sha256::add(QByteArrayView bytes) {
    requireOpenSsl(EVP_DigestUpdate(context_, bytes.data(), static_cast<std::size_t>(bytes.size())) == 1);
}

QByteArray Sha256::finish() {
    QByteArray digest(32, '\0');
    unsigned int length = 0;
    requireOpenSsl(EVP_DigestFinal_ex(context_, reinterpret_cast<unsigned char*>(digest.data()), &length) == 1 &&
                   length == 32);
    return digest;
}

QByteArray sha256(QByteArrayView bytes) {
    QByteArray digest(32, '\0');
    unsigned int length = 0;
    requireOpenSsl(EVP_Digest(bytes.data(), static_cast<std::size_t>(bytes.size()),
                              reinterpret_cast<unsigned char*>(digest.data()), &length, EVP_sha256(), nullptr) == 1 &&
                   length == 32);
    return digest;
}

QString sha256Hex(QByteArrayView bytes) { return QString::fromLatin1(sha256(bytes).toHex()); }

}  // namespace raven::data
