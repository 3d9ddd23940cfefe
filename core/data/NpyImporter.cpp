#include "data/NpyImporter.h"

#include "base/Checked.h"
#include "base/Error.h"
#include "data/FileBytes.h"
#include "data/Split.h"

#include <QFileInfo>

#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <variant>

namespace raven::data {

namespace {

// The header dict, parsed just far enough for what np.save writes: string keys whose values are
// strings, True/False, or tuples of integers.
using HeaderValue = std::variant<std::string, bool, std::vector<std::int64_t>>;

class HeaderParser {
public:
    HeaderParser(std::string_view text, const QString& path) : s_(text), path_(path) {}

    std::map<std::string, HeaderValue> parseDict() {
        std::map<std::string, HeaderValue> dict;
        expect('{');
        for (;;) {
            skipSpace();
            if (peek() == '}') break;
            const std::string key = parseString();
            expect(':');
            dict[key] = parseValue();
            skipSpace();
            if (peek() == ',')
                ++pos_;
            else if (peek() != '}')
                bad("expected ',' or '}'");
        }
        return dict;
    }

private:
    HeaderValue parseValue() {
        skipSpace();
        const char c = peek();
        if (c == '\'' || c == '"') return parseString();
        if (s_.substr(pos_).starts_with("True")) {
            pos_ += 4;
            return true;
        }
        if (s_.substr(pos_).starts_with("False")) {
            pos_ += 5;
            return false;
        }
        if (c == '(') {
            ++pos_;
            std::vector<std::int64_t> dims;
            for (;;) {
                skipSpace();
                if (peek() == ')') {
                    ++pos_;
                    break;
                }
                std::int64_t v = 0;
                bool any = false;
                while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
                    const auto tens = mulOrNothing(v, 10);
                    const auto next = tens ? addOrNothing(*tens, s_[pos_] - '0') : std::nullopt;
                    if (!next) bad("a dimension does not fit in 64 bits");
                    v = *next;
                    ++pos_;
                    any = true;
                }
                if (!any) bad("expected a dimension");
                if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 longs
                dims.push_back(v);
                skipSpace();
                if (peek() == ',')
                    ++pos_;
                else if (peek() != ')')
                    bad("expected ',' or ')' in the shape");
            }
            return dims;
        }
        bad("unexpected value");
    }
    std::string parseString() {
        skipSpace();
        const char q = peek();
        if (q != '\'' && q != '"') bad("expected a quoted key");
        const auto end = s_.find(q, pos_ + 1);
        if (end == std::string_view::npos) bad("unterminated string");
        std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
        pos_ = end + 1;
        return out;
    }
    void expect(char c) {
        skipSpace();
        if (peek() != c) bad(std::string("expected '") + c + "'");
        ++pos_;
    }
    void skipSpace() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t')) ++pos_;
    }
    char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
    [[noreturn]] void bad(const std::string& what) const {
        fail(str(path_) + ": the .npy header dict is malformed at header character " + std::to_string(pos_) + ": " +
                 what + " in " + std::string(s_),
             "write the file with numpy.save");
    }
    std::string_view s_;
    std::size_t pos_ = 0;
    QString path_;
};

}  // namespace

double NpyArray::at(std::int64_t i) const {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.constData()) + dataOffset + i * itemSize;
    std::uint64_t u = 0;
    for (std::int64_t b = itemSize - 1; b >= 0; --b) u = (u << 8) | p[b];  // little-endian
    switch (kind) {
        case 'f':
            return itemSize == 4 ? double(std::bit_cast<float>(std::uint32_t(u))) : std::bit_cast<double>(u);
        case 'b':
        case 'u':
            return double(u);
        case 'i': {
            const int shift = int(64 - 8 * itemSize);
            return double(std::int64_t(u << shift) >> shift);  // sign-extend
        }
    }
    RAVEN_ASSERT(false, "npy kind checked by readNpy");
}

NpyArray readNpy(const QString& path) {
    NpyArray a;
    a.bytes = readSourceFile(path);
    const auto* p = reinterpret_cast<const unsigned char*>(a.bytes.constData());
    const auto size = static_cast<std::int64_t>(a.bytes.size());
    const char* notNpy = "this is not a NumPy .npy file: write it with numpy.save (not savez or savetxt)";
    RAVEN_CHECK(size >= 10 && std::memcmp(p, "\x93NUMPY", 6) == 0,
                str(path) + ": wrong magic at byte 0 (expected \\x93NUMPY)", notNpy);
    const int major = p[6];
    RAVEN_CHECK(
        major >= 1 && major <= 3,
        str(path) + ": unsupported .npy version " + std::to_string(major) + "." + std::to_string(p[7]) + " at byte 6",
        "Raven reads .npy versions 1, 2 and 3");
    std::int64_t headerLen = 0, headerStart = 0;
    if (major == 1) {
        headerLen = p[8] | (p[9] << 8);
        headerStart = 10;
    } else {
        RAVEN_CHECK(size >= 12, str(path) + ": truncated in the header length", "the file was cut short");
        headerLen =
            std::int64_t(p[8]) | (std::int64_t(p[9]) << 8) | (std::int64_t(p[10]) << 16) | (std::int64_t(p[11]) << 24);
        headerStart = 12;
    }
    RAVEN_CHECK(headerStart + headerLen <= size,
                str(path) + ": truncated: the header is " + std::to_string(headerLen) +
                    " bytes but the file ends at byte " + std::to_string(size),
                "the file was cut short: write it again");
    const std::string_view header(a.bytes.constData() + headerStart, static_cast<std::size_t>(headerLen));
    const auto dict = HeaderParser(header, path).parseDict();
    auto get = [&](const char* key) -> const HeaderValue& {
        const auto it = dict.find(key);
        if (it == dict.end()) fail(str(path) + ": the .npy header has no '" + key + "'", notNpy);
        return it->second;
    };
    const auto* descr = std::get_if<std::string>(&get("descr"));
    const auto* fortran = std::get_if<bool>(&get("fortran_order"));
    const auto* shape = std::get_if<std::vector<std::int64_t>>(&get("shape"));
    RAVEN_CHECK(descr && fortran && shape, str(path) + ": the .npy header has values of the wrong type", notNpy);
    RAVEN_CHECK(!*fortran, str(path) + ": the array is in Fortran (column-major) order",
                "save a C-ordered array: numpy.save(path, numpy.ascontiguousarray(a))");
    RAVEN_CHECK(descr->size() >= 3, str(path) + ": unknown dtype '" + *descr + "'",
                "use float32, float64 or an integer dtype");
    const char order = (*descr)[0];
    a.kind = (*descr)[1];
    a.itemSize = std::atoll(descr->c_str() + 2);
    const bool known = (a.kind == 'f' && (a.itemSize == 4 || a.itemSize == 8)) ||
                       ((a.kind == 'i' || a.kind == 'u') &&
                        (a.itemSize == 1 || a.itemSize == 2 || a.itemSize == 4 || a.itemSize == 8)) ||
                       (a.kind == 'b' && a.itemSize == 1);
    RAVEN_CHECK(known && (order == '<' || order == '|' || order == '=' || order == '>'),
                str(path) + ": unsupported dtype '" + *descr + "'",
                "use float32, float64 or an integer dtype (structured, complex and string arrays are not datasets)");
    RAVEN_CHECK(order != '>' || a.itemSize == 1, str(path) + ": the data is big-endian ('" + *descr + "')",
                "convert it to little-endian: a.astype(a.dtype.newbyteorder('<'))");
    a.shape = *shape;
    RAVEN_CHECK(!a.shape.empty(), str(path) + ": the array is a scalar (shape ())",
                "save one row per sample: shape (N, ...)");
    a.dataOffset = headerStart + headerLen;
    // The shape's product and the byte count are checked: wrapped, a crafted shape would "need" few
    // bytes and pass the size check below.
    const auto values = checkedProduct(a.shape);
    const auto dataBytes = values ? mulOrNothing(*values, a.itemSize) : std::nullopt;
    const auto expectedBytes = dataBytes ? addOrNothing(a.dataOffset, *dataBytes) : std::nullopt;
    if (!expectedBytes)
        fail(str(path) + ": shape " + shapeString(a.shape) + " of '" + *descr +
                 "' describes more than 2^63 bytes of data, which no file holds",
             "the header is corrupt or crafted: write the file again with numpy.save");
    const auto expected = *expectedBytes;
    if (size < expected) {
        const auto perRow = a.count() / std::max<std::int64_t>(1, a.shape[0]) * a.itemSize;
        fail(str(path) + ": truncated: shape " + shapeString(a.shape) + " needs " + std::to_string(expected) +
                 " bytes but the file ends at byte " + std::to_string(size) + "; row " +
                 std::to_string(perRow ? (size - a.dataOffset) / perRow : 0) + " is the first incomplete one",
             "the file was cut short: write it again");
    }
    RAVEN_CHECK(size == expected,
                str(path) + ": " + std::to_string(size - expected) + " unexpected bytes after the data (byte " +
                    std::to_string(expected) + " onwards)",
                "the header and the data disagree: write the file again with numpy.save");
    return a;
}

Dataset importNpy(const QString& xPath, const QString& yPath, const NpyImportOptions& options) {
    const NpyArray x = readNpy(xPath);
    const NpyArray y = readNpy(yPath);
    RAVEN_CHECK(y.kind == 'i' || y.kind == 'u',
                str(yPath) + ": labels have a non-integer dtype ('" + std::string(1, y.kind) +
                    std::to_string(y.itemSize) + "')",
                "labels must be integer class indices: y.astype(numpy.int64)");
    RAVEN_CHECK(y.shape.size() <= 2, str(yPath) + ": labels have shape " + shapeString(y.shape),
                "labels are (N,) class indices or (N, T) target sequences");
    const auto n = x.shape[0];
    RAVEN_CHECK(y.shape[0] == n,
                str(xPath) + " holds " + std::to_string(n) + " samples but " + str(yPath) + " holds " +
                    std::to_string(y.shape[0]) + " labels",
                "x and y must have the same first dimension");
    Shape featureShape(x.shape.begin() + 1, x.shape.end());
    if (featureShape.empty()) featureShape = {1};
    for (auto d : featureShape)
        RAVEN_CHECK(d > 0, str(xPath) + ": a sample has shape " + shapeString(featureShape),
                    "samples must not be empty");
    const Shape labelShape(y.shape.begin() + 1, y.shape.end());

    std::vector<float> features(static_cast<std::size_t>(x.count()));
    if (x.kind == 'f' && x.itemSize == 4) {
        if (!features.empty()) std::memcpy(features.data(), x.bytes.constData() + x.dataOffset, features.size() * 4);
    } else {
        for (std::int64_t i = 0; i < x.count(); ++i)
            features[static_cast<std::size_t>(i)] = static_cast<float>(x.at(i));
    }
    const auto featureSize = elementCount(featureShape);
    for (std::size_t i = 0; i < features.size(); ++i)
        RAVEN_CHECK(std::isfinite(features[i]),
                    str(xPath) + ": sample " + std::to_string(static_cast<std::int64_t>(i) / featureSize) + " holds " +
                        std::to_string(features[i]) + " at element " +
                        std::to_string(static_cast<std::int64_t>(i) % featureSize),
                    "features must be finite: replace NaN and infinite values before importing");
    std::vector<std::int32_t> labels(static_cast<std::size_t>(y.count()));
    std::int64_t maxLabel = 0;
    const auto perSample = std::max<std::int64_t>(1, elementCount(labelShape));
    for (std::int64_t i = 0; i < y.count(); ++i) {
        const double v = y.at(i);
        RAVEN_CHECK(v >= 0 && v <= INT32_MAX,
                    str(yPath) + ": sample " + std::to_string(i / perSample) + " has label " +
                        std::to_string(static_cast<std::int64_t>(v)),
                    "labels must be class indices 0, 1, 2, ...");
        RAVEN_CHECK(options.classNames.empty() || v < double(options.classNames.size()),
                    str(yPath) + ": sample " + std::to_string(i / perSample) + " has label " +
                        std::to_string(static_cast<std::int64_t>(v)) + " but " +
                        std::to_string(options.classNames.size()) + " class names were given",
                    "give one class name per label value, or check that y belongs to x");
        labels[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(v);
        maxLabel = std::max<std::int64_t>(maxLabel, static_cast<std::int64_t>(v));
    }
    Samples all(featureShape, labelShape);
    all.assign(std::move(features), std::move(labels));

    Dataset ds;
    ds.name = options.name.empty() ? str(QFileInfo(xPath).completeBaseName()) : options.name;
    ds.classes = options.classNames.empty() ? numberedClasses(maxLabel + 1, str(yPath)) : options.classNames;
    ds.elementType = x.kind == 'u' && x.itemSize == 1 ? ElementType::U8 : ElementType::F32;
    std::tie(ds.train, ds.test) = splitSamples(all, options.testFraction, options.seed);
    ds.validate(str(xPath) + " + " + str(yPath));
    ds.normalization = Normalization::fit(ds.train, options.normalization);
    return ds;
}

}  // namespace raven::data
