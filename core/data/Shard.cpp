#include "data/Shard.h"

#include "base/Error.h"
#include "data/Sha256.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace raven::data {

namespace {

constexpr char kMagic[8] = {'R', 'V', 'N', 'S', 'H', 'A', 'R', 'D'};

void putU32(QByteArray& out, std::uint32_t v) {
    const char b[4] = {char(v & 0xFF), char((v >> 8) & 0xFF), char((v >> 16) & 0xFF), char((v >> 24) & 0xFF)};
    out.append(b, 4);
}

class Reader {
public:
    Reader(const QByteArray& bytes, const std::string& origin) : bytes_(bytes), origin_(origin) {}
    std::uint32_t u32(const char* what) {
        need(4, what);
        const auto* p = reinterpret_cast<const unsigned char*>(bytes_.constData()) + pos_;
        pos_ += 4;
        return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) |
               (std::uint32_t(p[3]) << 24);
    }
    const unsigned char* take(std::int64_t n, const char* what) {
        need(n, what);
        const auto* p = reinterpret_cast<const unsigned char*>(bytes_.constData()) + pos_;
        pos_ += n;
        return p;
    }
    std::int64_t pos() const { return pos_; }
    std::int64_t size() const { return bytes_.size(); }
    [[noreturn]] void bad(const std::string& what) const {
        fail(origin_ + ": " + what + " (at byte " + std::to_string(pos_) + ")",
             "the shard is damaged or not a Raven shard: delete it and re-import or re-fetch");
    }

private:
    void need(std::int64_t n, const char* what) const {
        if (n < 0 || pos_ + n > size())
            bad(std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes but " +
                std::to_string(size() - pos_) + " remain");
    }
    const QByteArray& bytes_;
    std::string origin_;
    std::int64_t pos_ = 0;
};

Shape readShape(Reader& r, const char* what) {
    const auto rank = r.u32(what);
    if (rank > 8) r.bad(std::string(what) + " rank " + std::to_string(rank) + " is implausible");
    Shape shape;
    std::int64_t product = 1;
    for (std::uint32_t i = 0; i < rank; ++i) {
        const auto d = r.u32(what);
        if (d == 0) r.bad(std::string(what) + " has a zero dimension");
        product *= d;
        // Bounded by the shard's size so that later products cannot overflow.
        if (product > r.size()) r.bad(std::string(what) + " is larger than the whole shard");
        shape.push_back(d);
    }
    return shape;
}

}  // namespace

QByteArray encodeShard(const Samples& samples, ElementType type) {
    QByteArray out;
    const auto n = samples.count();
    out.reserve(
        static_cast<qsizetype>(64 + n * samples.featureSize() * elementBytes(type) + n * samples.labelSize() * 4));
    out.append(kMagic, 8);
    putU32(out, kShardFormatVersion);
    putU32(out, static_cast<std::uint32_t>(type));
    putU32(out, static_cast<std::uint32_t>(n));
    for (const Shape* shape : {&samples.featureShape(), &samples.labelShape()}) {
        putU32(out, static_cast<std::uint32_t>(shape->size()));
        for (auto d : *shape) putU32(out, static_cast<std::uint32_t>(d));
    }
    const auto& x = samples.allFeatures();
    const auto headerSize = out.size();
    out.resize(headerSize + static_cast<qsizetype>(x.size()) * static_cast<qsizetype>(elementBytes(type)));
    auto* dst = reinterpret_cast<unsigned char*>(out.data()) + headerSize;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const float v = x[i];
        std::uint32_t u = 0;
        switch (type) {
            case ElementType::U8:
                RAVEN_ASSERT(v >= 0 && v <= 255 && v == std::floor(v), "u8 shard feature " + std::to_string(v));
                dst[i] = static_cast<unsigned char>(v);
                continue;
            case ElementType::I32:
                RAVEN_ASSERT(v == std::floor(v) && std::fabs(v) <= 16777216.0f,
                             "i32 shard feature " + std::to_string(v));
                u = static_cast<std::uint32_t>(static_cast<std::int32_t>(v));
                break;
            case ElementType::F32:
                u = std::bit_cast<std::uint32_t>(v);
                break;
        }
        for (int b = 0; b < 4; ++b) dst[4 * i + static_cast<std::size_t>(b)] = static_cast<unsigned char>(u >> (8 * b));
    }
    for (auto y : samples.allLabels()) putU32(out, static_cast<std::uint32_t>(y));
    return out;
}

Shard decodeShard(const QByteArray& bytes, const std::string& origin) {
    Reader r(bytes, origin);
    const auto* magic = r.take(8, "the magic");
    if (std::memcmp(magic, kMagic, 8) != 0) r.bad("wrong magic: not a Raven shard");
    const auto version = r.u32("the version");
    if (version != kShardFormatVersion)
        fail(origin + ": shard format version " + std::to_string(version) + ", this Raven reads version " +
                 std::to_string(kShardFormatVersion),
             "update Raven, or re-import the dataset with this version");
    Shard shard;
    const auto type = r.u32("the element type");
    if (type < 1 || type > 3) r.bad("unknown element type " + std::to_string(type));
    shard.elementType = static_cast<ElementType>(type);
    const std::int64_t n = r.u32("the sample count");
    if (n > r.size()) r.bad("sample count " + std::to_string(n) + " is larger than the whole shard");
    const Shape featureShape = readShape(r, "the feature shape");
    const Shape labelShape = readShape(r, "the label shape");
    if (featureShape.empty()) r.bad("the feature shape is empty");
    const auto featureCount = n * elementCount(featureShape);
    const auto labelCount = n * elementCount(labelShape);
    const auto* fx = r.take(featureCount * elementBytes(shard.elementType), "the features");
    const auto* ly = r.take(labelCount * 4, "the labels");
    if (r.pos() != r.size()) r.bad(std::to_string(r.size() - r.pos()) + " unexpected bytes after the labels");

    auto u32At = [](const unsigned char* p) {
        return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) |
               (std::uint32_t(p[3]) << 24);
    };
    std::vector<float> x(static_cast<std::size_t>(featureCount));
    for (std::int64_t i = 0; i < featureCount; ++i) {
        switch (shard.elementType) {
            case ElementType::U8:
                x[static_cast<std::size_t>(i)] = fx[i];
                break;
            case ElementType::I32:
                x[static_cast<std::size_t>(i)] = static_cast<float>(static_cast<std::int32_t>(u32At(fx + 4 * i)));
                break;
            case ElementType::F32:
                x[static_cast<std::size_t>(i)] = std::bit_cast<float>(u32At(fx + 4 * i));
                break;
        }
    }
    std::vector<std::int32_t> y(static_cast<std::size_t>(labelCount));
    for (std::int64_t i = 0; i < labelCount; ++i)
        y[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(u32At(ly + 4 * i));
    shard.samples = Samples(featureShape, labelShape);
    shard.samples.assign(std::move(x), std::move(y));
    return shard;
}

QString contentHash(const QByteArray& bytes) { return sha256Hex(bytes); }

}  // namespace raven::data
