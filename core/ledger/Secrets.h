#pragma once
// Contributor tokens and requester API keys. The store keeps only hashSecret(secret): whoever reads
// the database file cannot act as a contributor or requester.
//
// The secrets are 256 random bits from the system generator, so a plain SHA-256 (unsalted, unlike a
// password hash) is enough: guessing a preimage is as hard as guessing the secret, and an unsalted
// hash lets the store find the owner of a presented secret by an indexed lookup.
#include <QByteArray>
#include <QString>

namespace raven::ledger {

// A fresh secret: 32 bytes from QRandomGenerator::system(), base64url without padding (43 chars).
QByteArray newSecret();
// Lowercase hex SHA-256 of the secret's bytes.
QString hashSecret(const QByteArray& secret);

}  // namespace raven::ledger
