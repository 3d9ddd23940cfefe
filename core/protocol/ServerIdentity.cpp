#include "protocol/ServerIdentity.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QHostInfo>
#include <QSaveFile>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

#include "base/Error.h"

namespace raven::protocol {
namespace {

constexpr long kValiditySeconds = 20L * 365 * 24 * 3600;

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

void check(bool ok, const char* step) {
    RAVEN_CHECK(ok, std::string("could not make a TLS certificate: OpenSSL failed at ") + step,
                "check that libssl3 is installed and working, or pass a certificate and key you made yourself");
}

QByteArray bioContents(BIO* bio) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return QByteArray(data, static_cast<qsizetype>(size));
}

void addExtension(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    check(ext != nullptr, "building an X509v3 extension");
    check(X509_add_ext(cert, ext.get(), -1) == 1, "adding an X509v3 extension");
}

QByteArray readFile(const QString& path, const char* what) {
    QFile file(path);
    RAVEN_CHECK(
        file.open(QIODevice::ReadOnly),
        "cannot read the " + std::string(what) + " " + path.toStdString() + ": " + file.errorString().toStdString(),
        "check the path and its permissions");
    return file.readAll();
}

void writeFile(const QString& path, const QByteArray& bytes, QFileDevice::Permissions permissions) {
    QSaveFile file(path);
    const bool ok = file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size() &&
                    file.setPermissions(permissions) && file.commit();
    RAVEN_CHECK(ok, "cannot write " + path.toStdString() + ": " + file.errorString().toStdString(),
                "make the coordinator's data directory writable, or pass a certificate and key");
}

ServerIdentity fromPem(const QByteArray& certPem, const QByteArray& keyPem, const QString& certOrigin,
                       const QString& keyOrigin) {
    ServerIdentity identity;
    identity.certificate = QSslCertificate(certPem, QSsl::Pem);
    RAVEN_CHECK(!identity.certificate.isNull(), "not a PEM certificate: " + certOrigin.toStdString(),
                "give a PEM (-----BEGIN CERTIFICATE-----) file, or delete it to have a new one made");
    for (QSsl::KeyAlgorithm algorithm : {QSsl::Ec, QSsl::Rsa}) {
        identity.privateKey = QSslKey(keyPem, algorithm, QSsl::Pem);
        if (!identity.privateKey.isNull()) break;
    }
    RAVEN_CHECK(!identity.privateKey.isNull(), "not a PEM EC or RSA private key: " + keyOrigin.toStdString(),
                "give an unencrypted PEM key file, or delete it and the certificate to have new ones made");
    return identity;
}

}  // namespace

QString certificateFingerprint(const QSslCertificate& certificate) {
    const QByteArray digest = QCryptographicHash::hash(certificate.toDer(), QCryptographicHash::Sha256);
    return QStringLiteral("sha256:") + QString::fromLatin1(digest.toHex(':').toUpper());
}

QString ServerIdentity::fingerprint() const { return certificateFingerprint(certificate); }

ServerIdentity ServerIdentity::generate(const QString& commonName) {
    PKeyPtr key(EVP_EC_gen("P-256"));
    check(key != nullptr, "generating an EC P-256 key");

    X509Ptr cert(X509_new());
    check(cert != nullptr, "X509_new");
    check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");  // 2 means v3
    unsigned char serial[16];
    check(RAND_bytes(serial, sizeof serial) == 1, "RAND_bytes");
    serial[0] &= 0x7f;  // a positive serial
    BIGNUM* serialNumber = BN_bin2bn(serial, sizeof serial, nullptr);
    check(serialNumber != nullptr && BN_to_ASN1_INTEGER(serialNumber, X509_get_serialNumber(cert.get())) != nullptr,
          "setting the serial number");
    BN_free(serialNumber);
    // A day's slack before now, for clients whose clock is behind.
    check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600) != nullptr, "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds) != nullptr, "notAfter");
    check(X509_set_pubkey(cert.get(), key.get()) == 1, "X509_set_pubkey");

    X509_NAME* name = X509_get_subject_name(cert.get());
    const QByteArray cn = commonName.toUtf8();
    check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Raven"), -1, -1,
                                     0) == 1,
          "subject O");
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.constData()),
                                     -1, -1, 0) == 1,
          "subject CN");
    check(X509_set_issuer_name(cert.get(), name) == 1, "issuer");

    std::string altNames = "DNS:localhost,IP:127.0.0.1,IP:::1";
    const QString host = QHostInfo::localHostName();
    const bool plainHost =
        !host.isEmpty() && host != QLatin1String("localhost") && std::all_of(host.begin(), host.end(), [](QChar c) {
            return c.isLetterOrNumber() || c == QLatin1Char('-') || c == QLatin1Char('.');
        });
    if (plainHost) altNames += ",DNS:" + host.toStdString();
    addExtension(cert.get(), NID_subject_alt_name, altNames);
    addExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    addExtension(cert.get(), NID_ext_key_usage, "serverAuth");
    check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");

    BioPtr certBio(BIO_new(BIO_s_mem()));
    BioPtr keyBio(BIO_new(BIO_s_mem()));
    check(certBio && keyBio, "BIO_new");
    check(PEM_write_bio_X509(certBio.get(), cert.get()) == 1, "writing the certificate");
    check(PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "writing the key");
    return fromPem(bioContents(certBio.get()), bioContents(keyBio.get()), QStringLiteral("(generated certificate)"),
                   QStringLiteral("(generated key)"));
}

ServerIdentity ServerIdentity::load(const QString& certificatePath, const QString& keyPath) {
    return fromPem(readFile(certificatePath, "certificate"), readFile(keyPath, "private key"), certificatePath,
                   keyPath);
}

ServerIdentity ServerIdentity::loadOrCreate(const QString& dataDir) {
    const QString dir = QDir(dataDir).filePath(QStringLiteral("tls"));
    const QString certPath = QDir(dir).filePath(QStringLiteral("server.crt"));
    const QString keyPath = QDir(dir).filePath(QStringLiteral("server.key"));
    const bool haveCert = QFile::exists(certPath);
    const bool haveKey = QFile::exists(keyPath);
    if (haveCert && haveKey) return load(certPath, keyPath);
    RAVEN_CHECK(!haveCert && !haveKey,
                "found " + (haveCert ? certPath : keyPath).toStdString() + " without its " +
                    (haveCert ? "key " + keyPath : "certificate " + certPath).toStdString(),
                "restore the missing file, or delete the other one to have a new pair made (clients that pinned "
                "the old certificate will then refuse the new one until their known_hosts entry is removed)");
    RAVEN_CHECK(QDir().mkpath(dir), "cannot create " + dir.toStdString(),
                "make the coordinator's data directory writable");

    ServerIdentity identity = generate(QStringLiteral("raven-coordinator"));
    writeFile(keyPath, identity.privateKey.toPem(), QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    writeFile(certPath, identity.certificate.toPem(),
              QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther);
    return identity;
}

}  // namespace raven::protocol
