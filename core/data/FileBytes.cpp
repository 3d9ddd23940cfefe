#include "data/FileBytes.h"

#include "base/Error.h"

#include <QFile>

#include <zlib.h>

namespace raven::data {

std::string str(const QString& s) { return s.toStdString(); }

QByteArray readSourceFile(const QString& path) {
    QFile f(path);
    if (!f.exists()) fail(str(path) + ": no such file", "check the path");
    if (!f.open(QIODevice::ReadOnly))
        fail(str(path) + ": cannot be read: " + str(f.errorString()), "check the file's permissions");
    QByteArray bytes = f.readAll();
    if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
        static_cast<unsigned char>(bytes[1]) == 0x8b)
        return gunzip(bytes, path);
    return bytes;
}

QByteArray gunzip(const QByteArray& compressed, const QString& origin) {
    QByteArray out;
    z_stream zs{};
    // 16 + MAX_WBITS: expect a gzip header and trailer (CRC and length are checked by zlib).
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) fail(str(origin) + ": zlib could not start", "");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.constData()));
    zs.avail_in = static_cast<uInt>(compressed.size());
    char buffer[1 << 16];
    int rc = Z_OK;
    for (;;) {
        zs.next_out = reinterpret_cast<Bytef*>(buffer);
        zs.avail_out = sizeof buffer;
        rc = inflate(&zs, Z_NO_FLUSH);
        out.append(buffer, static_cast<qsizetype>(sizeof buffer - zs.avail_out));
        if (rc == Z_STREAM_END) {
            // Concatenated gzip members (what `cat a.gz b.gz` makes) are one stream to gzip(1).
            if (zs.avail_in == 0) break;
            inflateReset(&zs);
            continue;
        }
        if (rc == Z_OK) continue;
        if (rc == Z_BUF_ERROR && zs.avail_in > 0) continue;
        break;
    }
    const auto consumed = compressed.size() - static_cast<qsizetype>(zs.avail_in);
    const std::string msg = zs.msg ? zs.msg : "";
    inflateEnd(&zs);
    if (rc == Z_STREAM_END) return out;
    if (rc == Z_BUF_ERROR)
        fail(str(origin) + ": the gzip stream is truncated: it ends after " + std::to_string(consumed) + " of " +
                 std::to_string(compressed.size()) + " bytes without its end marker",
             "the download or copy was cut short: fetch the file again");
    fail(str(origin) + ": the gzip stream is corrupt near compressed byte " + std::to_string(consumed) +
             (msg.empty() ? "" : " (" + msg + ")"),
         "the file is damaged: fetch it again, or decompress it with gunzip to see what is wrong");
}

}  // namespace raven::data
