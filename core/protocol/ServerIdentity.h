#pragma once
// The coordinator's TLS identity: a certificate and its private key.
//
// A coordinator that is given no certificate makes a self-signed one on first run (EC P-256, valid
// for 20 years, subject alternative names localhost, 127.0.0.1 and ::1 plus the host name) and keeps
// it in its data directory as tls/server.crt and tls/server.key (0600). Later runs reuse it, so the
// fingerprint that clients pinned (KnownHosts.h) stays valid. An operator with a real certificate
// passes it with load().
#include <QSslCertificate>
#include <QSslKey>
#include <QString>

namespace raven::protocol {

struct ServerIdentity {
    QSslCertificate certificate;
    QSslKey privateKey;

    // "sha256:AB:CD:..." of the certificate's DER bytes: what clients pin.
    QString fingerprint() const;

    // Loads <dataDir>/tls/server.{crt,key}, creating both first when neither exists. Throws
    // raven::Error when only one exists, when they do not parse, or when the directory is not writable.
    static ServerIdentity loadOrCreate(const QString& dataDir);
    // Loads PEM files the operator provides. Throws raven::Error naming the file on failure.
    static ServerIdentity load(const QString& certificatePath, const QString& keyPath);
    // A fresh self-signed identity in memory (OpenSSL's EVP and X509 API).
    static ServerIdentity generate(const QString& commonName);
};

// "sha256:AB:CD:..." (uppercase hex pairs) of a certificate's DER bytes.
QString certificateFingerprint(const QSslCertificate& certificate);

}  // namespace raven::protocol
