#pragma once
// Writers for small test fixtures: IDX, gzip and .npy files made byte by byte, so that each test
// controls exactly what is valid and what is broken.
#include "base/Error.h"

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QString>
#include <QtTest>

#include <zlib.h>
#include <cstdint>
#include <string>
#include <vector>

namespace raven::testing {

inline void writeFile(const QString& path, const QByteArray& bytes) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(path));
    QCOMPARE(f.write(bytes), bytes.size());
}

inline QByteArray readFile(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

inline QByteArray gzip(const QByteArray& data) {
    z_stream zs{};
    deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    QByteArray out(static_cast<qsizetype>(deflateBound(&zs, static_cast<uLong>(data.size())) + 32), '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.constData()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(static_cast<qsizetype>(zs.total_out));
    deflateEnd(&zs);
    return out;
}

inline void appendBigEndian32(QByteArray& out, std::uint32_t v) {
    out.append(char(v >> 24)).append(char(v >> 16)).append(char(v >> 8)).append(char(v));
}

// An IDX file of u8 values (type 0x08).
inline QByteArray idxU8(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& values) {
    QByteArray out;
    out.append('\0').append('\0').append(char(0x08)).append(char(dims.size()));
    for (auto d : dims) appendBigEndian32(out, d);
    out.append(reinterpret_cast<const char*>(values.data()), static_cast<qsizetype>(values.size()));
    return out;
}

// A .npy file: header dict from the arguments, padded as numpy does, then the raw data.
inline QByteArray npy(const std::string& descr, bool fortran, const std::vector<std::int64_t>& shape,
                      const QByteArray& data, int version = 1) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': (";
    for (std::size_t i = 0; i < shape.size(); ++i)
        dict += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? ", " : "");
    dict += "), }";
    const std::size_t prefix = version == 1 ? 10 : 12;
    while ((prefix + dict.size() + 1) % 64 != 0) dict += ' ';
    dict += '\n';
    QByteArray out("\x93NUMPY", 6);
    out.append(char(version)).append('\0');
    const auto len = static_cast<std::uint32_t>(dict.size());
    out.append(char(len & 0xFF)).append(char((len >> 8) & 0xFF));
    if (version != 1) out.append(char((len >> 16) & 0xFF)).append(char(len >> 24));
    out.append(dict.data(), static_cast<qsizetype>(dict.size()));
    out.append(data);
    return out;
}

template <typename T>
QByteArray rawBytes(const std::vector<T>& v) {
    return QByteArray(reinterpret_cast<const char*>(v.data()), static_cast<qsizetype>(v.size() * sizeof(T)));
}

// Runs f and checks it throws raven::Error whose what() contains every one of `parts`.
template <typename F>
void expectError(F&& f, std::initializer_list<const char*> parts) {
    try {
        f();
    } catch (const raven::Error& e) {
        const QString what = QString::fromStdString(e.what());
        for (const char* part : parts)
            QVERIFY2(what.contains(QString::fromUtf8(part)), qPrintable("'" + QString(part) + "' not in: " + what));
        QVERIFY2(!e.hint().empty(), qPrintable("no hint in: " + what));
        return;
    }
    QFAIL("no raven::Error was thrown");
}

}  // namespace raven::testing
