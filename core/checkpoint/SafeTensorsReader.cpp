// Reading and validating safetensors files. The rules follow the reference implementation
// (safetensors/src/tensor.rs): a file that it would refuse, Raven refuses too, with a message that
// says which tensor breaks which rule.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <algorithm>
#include <cstring>
#include <set>

#include "base/Error.h"
#include "checkpoint/SafeTensors.h"
#include "checkpoint/SafeTensorsInternal.h"

namespace raven {

namespace {

constexpr const char* kCorruptHint =
    "the file is truncated or not a safetensors file; re-download it or write it again";

// One tensor's header entry, validated on its own; the layout across tensors is checked afterwards.
struct Entry {
    std::string name;
    safetensors::DType dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t begin;
    std::uint64_t end;
};

class HeaderParser {
public:
    HeaderParser(std::string source, std::span<const std::byte> header) : source_(std::move(source)), header_(header) {}

    void parse(SafeTensors::Metadata& metadata, std::vector<Entry>& entries) const {
        const QByteArray json = QByteArray::fromRawData(reinterpret_cast<const char*>(header_.data()),
                                                        static_cast<qsizetype>(header_.size()));
        QJsonParseError error{};
        const QJsonDocument document = QJsonDocument::fromJson(json, &error);
        if (error.error != QJsonParseError::NoError)
            failFile("its header is not valid JSON (" + error.errorString().toStdString() + " at byte " +
                     std::to_string(8 + error.offset) + ")");
        if (!document.isObject()) failFile("its header is not a JSON object");
        // QJsonDocument keeps the last of two equal keys; the reference refuses such a header, so
        // look for repeats in the text itself.
        rejectRepeatedKeys();

        const QJsonObject root = document.object();
        for (auto it = root.begin(); it != root.end(); ++it) {
            const std::string name = it.key().toStdString();
            if (name == "__metadata__")
                parseMetadata(it.value(), metadata);
            else
                entries.push_back(parseEntry(name, it.value()));
        }
    }

private:
    [[noreturn]] void failFile(const std::string& what, const std::string& hint = kCorruptHint) const {
        fail("'" + source_ + "' is not a valid safetensors file: " + what, hint);
    }
    [[noreturn]] void failTensor(const std::string& name, const std::string& what,
                                 const std::string& hint = kCorruptHint) const {
        failFile("tensor '" + name + "' " + what, hint);
    }

    void parseMetadata(const QJsonValue& value, SafeTensors::Metadata& metadata) const {
        if (value.isNull()) return;
        if (!value.isObject()) failFile("its \"__metadata__\" is not a JSON object of strings");
        const QJsonObject object = value.toObject();
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (!it.value().isString())
                failFile("metadata key '" + it.key().toStdString() + "' does not hold a string");
            metadata[it.key().toStdString()] = it.value().toString().toStdString();
        }
    }

    // A JSON integer in [0, 2^63); anything else is an error about `field` of tensor `name`.
    std::int64_t nonNegativeInteger(const std::string& name, const char* field, const QJsonValue& value) const {
        const qint64 number = value.isDouble() ? value.toInteger(-1) : -1;
        if (number < 0)
            failTensor(name, std::string("has a ") + field + " entry that is not a non-negative integer (" +
                                 QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact).toStdString() + ")");
        return number;
    }

    Entry parseEntry(const std::string& name, const QJsonValue& value) const {
        if (!value.isObject()) failTensor(name, "is not described by a JSON object");
        const QJsonObject object = value.toObject();

        const QJsonValue dtypeValue = object.value("dtype");
        if (!dtypeValue.isString()) failTensor(name, "has no \"dtype\" string");
        const std::string dtypeName = dtypeValue.toString().toStdString();
        const auto dtype = safetensors::dtypeFromName(dtypeName);
        if (!dtype)
            failTensor(name, "has dtype \"" + dtypeName + "\", which Raven does not support",
                       "Raven reads " + std::string(safetensors::supportedDTypeNames()) +
                           "; convert the tensor (e.g. tensor.float() in PyTorch) and save it again");

        const QJsonValue shapeValue = object.value("shape");
        if (!shapeValue.isArray()) failTensor(name, "has no \"shape\" array");
        std::vector<std::int64_t> shape;
        for (const QJsonValue dim : shapeValue.toArray()) shape.push_back(nonNegativeInteger(name, "shape", dim));

        const QJsonValue offsetsValue = object.value("data_offsets");
        if (!offsetsValue.isArray() || offsetsValue.toArray().size() != 2)
            failTensor(name, "has no \"data_offsets\" pair [begin, end]");
        const QJsonArray offsets = offsetsValue.toArray();
        const auto begin = static_cast<std::uint64_t>(nonNegativeInteger(name, "data_offsets", offsets[0]));
        const auto end = static_cast<std::uint64_t>(nonNegativeInteger(name, "data_offsets", offsets[1]));
        if (end < begin)
            failTensor(name, "ends before it begins (data_offsets [" + std::to_string(begin) + ", " +
                                 std::to_string(end) + "])");

        const auto bytes = safetensors::detail::byteCount(shape, *dtype);
        if (!bytes) failTensor(name, "has a shape whose size overflows: " + safetensors::detail::shapeText(shape));
        if (end - begin != *bytes)
            failTensor(name, "has " + std::to_string(end - begin) + " bytes of data (data_offsets [" +
                                 std::to_string(begin) + ", " + std::to_string(end) + "]) but dtype " + dtypeName +
                                 " and shape " + safetensors::detail::shapeText(shape) + " need " +
                                 std::to_string(*bytes));
        return Entry{name, *dtype, std::move(shape), begin, end};
    }

    // Walks the (already valid) JSON text and fails on the first key repeated within one object.
    void rejectRepeatedKeys() const {
        struct Frame {
            bool isObject;
            bool expectingKey;
            std::string owner;  // the key under which this object sits ("" at the top)
            std::set<std::string> keys;
            std::string lastKey;
        };
        std::vector<Frame> stack;
        const auto* text = reinterpret_cast<const char*>(header_.data());
        const std::size_t size = header_.size();
        for (std::size_t i = 0; i < size; ++i) {
            const char c = text[i];
            if (c == '"') {
                const std::size_t start = ++i;
                while (i < size && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
                if (stack.empty() || !stack.back().isObject || !stack.back().expectingKey) continue;
                Frame& frame = stack.back();
                frame.expectingKey = false;
                frame.lastKey = decodeKey(std::string_view(text + start, i - start));
                if (frame.keys.insert(frame.lastKey).second) continue;
                if (stack.size() == 1)
                    failFile(frame.lastKey == "__metadata__"
                                 ? "\"__metadata__\" appears twice in its header"
                                 : "tensor '" + frame.lastKey + "' appears twice in its header");
                failFile("key '" + frame.lastKey + "' appears twice under '" + frame.owner + "'");
            } else if (c == '{' || c == '[') {
                std::string owner = stack.empty() ? std::string() : stack.back().lastKey;
                stack.push_back(Frame{c == '{', c == '{', std::move(owner), {}, {}});
            } else if (c == '}' || c == ']') {
                if (!stack.empty()) stack.pop_back();
            } else if (c == ',' && !stack.empty() && stack.back().isObject) {
                stack.back().expectingKey = true;
            }
        }
    }

    static std::string decodeKey(std::string_view raw) {
        if (raw.find('\\') == std::string_view::npos) return std::string(raw);
        const QByteArray wrapped = "[\"" + QByteArray(raw.data(), static_cast<qsizetype>(raw.size())) + "\"]";
        return QJsonDocument::fromJson(wrapped).array().at(0).toString().toStdString();
    }

    std::string source_;
    std::span<const std::byte> header_;
};

[[noreturn]] void failCorrupt(const std::string& source, const std::string& what) {
    fail("'" + source + "' is not a valid safetensors file: " + what, kCorruptHint);
}

}  // namespace

SafeTensors SafeTensors::fromBytes(std::span<const std::byte> bytes, const std::string& source) {
    if (bytes.size() < 8)
        failCorrupt(source,
                    "it is " + std::to_string(bytes.size()) + " bytes long, shorter than the 8-byte header length");
    std::uint64_t headerBytes = 0;
    for (int i = 7; i >= 0; --i) headerBytes = (headerBytes << 8) | std::to_integer<std::uint64_t>(bytes[i]);
    if (headerBytes > safetensors::kMaxHeaderBytes)
        failCorrupt(source, "its header length " + std::to_string(headerBytes) + " exceeds the limit of " +
                                std::to_string(safetensors::kMaxHeaderBytes) + " bytes");
    if (headerBytes > bytes.size() - 8)
        failCorrupt(source, "its header length " + std::to_string(headerBytes) + " goes beyond the end of the file (" +
                                std::to_string(bytes.size()) + " bytes)");

    SafeTensors result;
    std::vector<Entry> entries;
    HeaderParser(source, bytes.subspan(8, headerBytes)).parse(result.metadata, entries);

    // The tensors must tile the data section: sorted by offset, each begins where the previous ended.
    const std::span<const std::byte> dataSection = bytes.subspan(8 + headerBytes);
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
    std::uint64_t covered = 0;
    const Entry* previous = nullptr;
    for (const Entry& entry : entries) {
        const std::string where = "tensor '" + entry.name + "' (data_offsets [" + std::to_string(entry.begin) + ", " +
                                  std::to_string(entry.end) + "])";
        if (entry.begin < covered)
            failCorrupt(source,
                        where + " overlaps tensor '" + previous->name + "', which ends at " + std::to_string(covered));
        if (entry.begin > covered)
            failCorrupt(source, where + " leaves a gap of " + std::to_string(entry.begin - covered) + " bytes after " +
                                    (previous ? "tensor '" + previous->name + "'"
                                              : std::string("the start of the data section")));
        if (entry.end > dataSection.size())
            failCorrupt(source, where + " goes beyond the end of the data section (" +
                                    std::to_string(dataSection.size()) + " bytes): the file is truncated");
        covered = entry.end;
        previous = &entry;
    }
    if (covered != dataSection.size())
        failCorrupt(source, "its data section holds " + std::to_string(dataSection.size()) +
                                " bytes but its tensors cover " + std::to_string(covered));

    for (Entry& entry : entries) {
        NamedArray array{std::move(entry.name), entry.dtype, std::move(entry.shape), {}};
        const auto data = dataSection.subspan(entry.begin, entry.end - entry.begin);
        array.data.assign(data.begin(), data.end());
        result.put(std::move(array));
    }
    return result;
}

SafeTensors SafeTensors::read(const std::string& path) {
    QFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::ReadOnly))
        fail("cannot open '" + path + "': " + file.errorString().toStdString(),
             "check that the file exists and that Raven may read it");
    // A memory map spares a copy of the whole file; fall back to reading where mapping is refused.
    if (file.size() > 0) {
        if (const uchar* mapped = file.map(0, file.size())) {
            SafeTensors result = fromBytes(
                std::span(reinterpret_cast<const std::byte*>(mapped), static_cast<std::size_t>(file.size())), path);
            file.unmap(const_cast<uchar*>(mapped));
            return result;
        }
    }
    const QByteArray contents = file.readAll();
    if (file.error() != QFileDevice::NoError)
        fail("cannot read '" + path + "': " + file.errorString().toStdString(), "check the disk and try again");
    return fromBytes(
        std::span(reinterpret_cast<const std::byte*>(contents.constData()), static_cast<std::size_t>(contents.size())),
        path);
}

}  // namespace raven
