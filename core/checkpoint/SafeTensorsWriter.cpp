// Writing safetensors files: header padded to 8 bytes, tensors laid out largest element first, then
// by name (see SafeTensors.h), the file replaced atomically.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/Error.h"
#include "checkpoint/SafeTensors.h"

namespace raven {
namespace {

struct Layout {
    QByteArray header;                     // padded JSON, without the 8-byte length
    std::vector<const NamedArray*> order;  // tensors in data-section order
};

Layout layOut(const SafeTensors& tensors) {
    Layout layout;
    for (const NamedArray& array : tensors.arrays()) layout.order.push_back(&array);
    // Larger elements first: with the header a multiple of 8 bytes, every tensor then starts at an
    // offset that is a multiple of its element size.
    std::stable_sort(layout.order.begin(), layout.order.end(), [](const NamedArray* a, const NamedArray* b) {
        return safetensors::dtypeSize(a->dtype) > safetensors::dtypeSize(b->dtype);
    });

    QJsonObject header;
    if (!tensors.metadata.empty()) {
        QJsonObject metadata;
        for (const auto& [key, value] : tensors.metadata)
            metadata.insert(QString::fromStdString(key), QString::fromStdString(value));
        header.insert("__metadata__", metadata);
    }
    qint64 offset = 0;
    for (const NamedArray* array : layout.order) {
        QJsonArray shape;
        for (const std::int64_t dim : array->shape) shape.append(static_cast<qint64>(dim));
        const qint64 end = offset + static_cast<qint64>(array->data.size());
        header.insert(QString::fromStdString(array->name),
                      QJsonObject{{"dtype", QString::fromUtf8(safetensors::dtypeName(array->dtype))},
                                  {"shape", shape},
                                  {"data_offsets", QJsonArray{offset, end}}});
        offset = end;
    }
    layout.header = QJsonDocument(header).toJson(QJsonDocument::Compact);
    layout.header.append(QByteArray((8 - layout.header.size() % 8) % 8, ' '));
    RAVEN_CHECK(static_cast<std::uint64_t>(layout.header.size()) <= safetensors::kMaxHeaderBytes,
                "the safetensors header would be " + std::to_string(layout.header.size()) +
                    " bytes, beyond the format's limit of " + std::to_string(safetensors::kMaxHeaderBytes),
                "store fewer tensors or less metadata in one file");
    return layout;
}

QByteArray lengthPrefix(const QByteArray& header) {
    QByteArray prefix(8, '\0');
    auto length = static_cast<std::uint64_t>(header.size());
    for (int i = 0; i < 8; ++i, length >>= 8) prefix[i] = static_cast<char>(length & 0xffu);
    return prefix;
}

}  // namespace

std::vector<std::byte> SafeTensors::toBytes() const {
    const Layout layout = layOut(*this);
    const QByteArray prefix = lengthPrefix(layout.header);
    std::vector<std::byte> bytes;
    const auto append = [&bytes](const void* data, std::size_t size) {
        const auto* begin = static_cast<const std::byte*>(data);
        bytes.insert(bytes.end(), begin, begin + size);
    };
    append(prefix.constData(), 8);
    append(layout.header.constData(), static_cast<std::size_t>(layout.header.size()));
    for (const NamedArray* array : layout.order) append(array->data.data(), array->data.size());
    return bytes;
}

void SafeTensors::write(const std::string& path) const {
    const Layout layout = layOut(*this);
    QSaveFile file(QString::fromStdString(path));
    // QSaveFile reports a failed write (a full disk: ENOSPC) as "Unknown error"; errno, cleared
    // before each step, holds the system's own reason.
    const auto failWrite = [&]() {
        const int cause = errno;
        fail("cannot write '" + path +
                 "': " + (cause != 0 ? std::string(std::strerror(cause)) : file.errorString().toStdString()),
             "check that the folder exists, that Raven may write there and that the disk has room");
    };
    errno = 0;
    if (!file.open(QIODevice::WriteOnly)) failWrite();
    const auto put = [&](const void* data, std::size_t size) {
        errno = 0;
        if (size != 0 &&
            file.write(static_cast<const char*>(data), static_cast<qint64>(size)) != static_cast<qint64>(size))
            failWrite();
    };
    const QByteArray prefix = lengthPrefix(layout.header);
    put(prefix.constData(), 8);
    put(layout.header.constData(), static_cast<std::size_t>(layout.header.size()));
    for (const NamedArray* array : layout.order) put(array->data.data(), array->data.size());
    errno = 0;
    if (!file.commit()) failWrite();
}

}  // namespace raven
