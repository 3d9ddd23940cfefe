#include "ledger/Secrets.h"

#include <QCryptographicHash>
#include <QRandomGenerator>

#include <array>

namespace raven::ledger {

QByteArray newSecret() {
    std::array<quint32, 8> words{};
    QRandomGenerator::system()->fillRange(words.data(), words.size());
    const QByteArray raw(reinterpret_cast<const char*>(words.data()), static_cast<qsizetype>(sizeof(words)));
    return raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QString hashSecret(const QByteArray& secret) {
    return QString::fromLatin1(QCryptographicHash::hash(secret, QCryptographicHash::Sha256).toHex());
}

}  // namespace raven::ledger
