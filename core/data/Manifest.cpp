#include "data/Manifest.h"

#include "base/Checked.h"
#include "base/Error.h"
#include "data/FileBytes.h"
#include "data/Sha256.h"
#include "data/ShardStore.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

#include <cmath>

namespace raven::data {

namespace {

constexpr const char* kFormat = "raven-dataset";
constexpr int kVersion = 1;

QJsonArray shapeJson(const Shape& s) {
    QJsonArray a;
    for (auto d : s) a.append(static_cast<qint64>(d));
    return a;
}

QJsonArray floatsJson(const std::vector<float>& v) {
    QJsonArray a;
    for (float x : v) a.append(double(x));
    return a;
}

QJsonObject splitJson(const SplitManifest& s) {
    QJsonArray shards;
    for (const auto& ref : s.shards)
        shards.append(QJsonObject{{"hash", ref.hash}, {"samples", static_cast<qint64>(ref.samples)}});
    return QJsonObject{{"samples", static_cast<qint64>(s.samples)}, {"shards", shards}};
}

QJsonObject contentJson(const Manifest& m) {
    QJsonArray classes;
    for (const auto& c : m.classes) classes.append(QString::fromStdString(c));
    return QJsonObject{
        {"format", kFormat},
        {"version", kVersion},
        {"name", QString::fromStdString(m.name)},
        {"featureShape", shapeJson(m.featureShape)},
        {"labelShape", shapeJson(m.labelShape)},
        {"elementType", QString::fromStdString(toString(m.elementType))},
        {"classes", classes},
        {"normalization", QJsonObject{{"kind", QString::fromStdString(toString(m.normalization.kind))},
                                      {"mean", floatsJson(m.normalization.mean)},
                                      {"std", floatsJson(m.normalization.std)}}},
        {"shardSize", static_cast<qint64>(m.shardSize)},
        {"train", splitJson(m.train)},
        {"test", splitJson(m.test)},
    };
}

// Typed access that turns a missing or mistyped member into a clear error.
class JsonReader {
public:
    explicit JsonReader(std::string origin) : origin_(std::move(origin)) {}
    QJsonValue member(const QJsonObject& o, const char* key, const std::string& where = {}) const {
        if (!o.contains(key)) bad("missing \"" + std::string(key) + "\"" + where);
        return o.value(key);
    }
    std::int64_t integer(const QJsonValue& v, const std::string& what) const {
        const double d = v.toDouble(-1);
        if (!v.isDouble() || d < 0 || d != std::floor(d) || d > 9.0e15) bad(what + " is not a non-negative integer");
        return static_cast<std::int64_t>(d);
    }
    QString string(const QJsonValue& v, const std::string& what) const {
        if (!v.isString()) bad(what + " is not a string");
        return v.toString();
    }
    QJsonArray array(const QJsonValue& v, const std::string& what) const {
        if (!v.isArray()) bad(what + " is not an array");
        return v.toArray();
    }
    QJsonObject object(const QJsonValue& v, const std::string& what) const {
        if (!v.isObject()) bad(what + " is not an object");
        return v.toObject();
    }
    Shape shape(const QJsonValue& v, const std::string& what) const {
        Shape s;
        for (const auto& d : array(v, what)) {
            const auto n = integer(d, what + " dimension");
            if (n == 0) bad(what + " has a zero dimension");
            s.push_back(n);
        }
        return s;
    }
    std::vector<float> floats(const QJsonValue& v, const std::string& what) const {
        std::vector<float> out;
        for (const auto& x : array(v, what)) {
            if (!x.isDouble()) bad(what + " holds a non-number");
            out.push_back(static_cast<float>(x.toDouble()));
        }
        return out;
    }
    [[noreturn]] void bad(const std::string& what) const {
        fail(origin_ + ": " + what,
             "the manifest is damaged or was edited by hand: re-import the dataset or fetch the manifest again");
    }

private:
    std::string origin_;
};

SplitManifest readSplit(const JsonReader& r, const QJsonObject& root, const char* key) {
    const QJsonObject o = r.object(r.member(root, key), key);
    SplitManifest s;
    s.samples = r.integer(r.member(o, "samples", std::string(" in ") + key), std::string(key) + ".samples");
    std::int64_t sum = 0;
    const QJsonArray shards = r.array(r.member(o, "shards", std::string(" in ") + key), std::string(key) + ".shards");
    for (qsizetype i = 0; i < shards.size(); ++i) {
        const std::string where = std::string(key) + ".shards[" + std::to_string(i) + "]";
        const QJsonObject ref = r.object(shards[i], where);
        ShardRef sr{r.string(r.member(ref, "hash", " in " + where), where + ".hash"),
                    r.integer(r.member(ref, "samples", " in " + where), where + ".samples")};
        if (!ShardStore::isShardName(sr.hash))
            r.bad(where + ".hash '" + str(sr.hash) + "' is not a SHA-256 in lowercase hex");
        if (sr.samples == 0) r.bad(where + " is empty");
        const auto next = addOrNothing(sum, sr.samples);  // each below 2^53, but there may be many
        if (!next) r.bad(std::string(key) + ": its shards hold more than 2^63 samples");
        sum = *next;
        s.shards.push_back(sr);
    }
    if (sum != s.samples)
        r.bad(std::string(key) + ".samples is " + std::to_string(s.samples) + " but its shards hold " +
              std::to_string(sum));
    return s;
}

}  // namespace

QString Manifest::computeId() const {
    const QByteArray canonical = QJsonDocument(contentJson(*this)).toJson(QJsonDocument::Compact);
    return sha256Hex(canonical);
}

QJsonObject Manifest::toJson() const {
    QJsonObject o = contentJson(*this);
    o.insert("id", id);
    return o;
}

QByteArray Manifest::toBytes() const { return QJsonDocument(toJson()).toJson(QJsonDocument::Indented); }

Manifest Manifest::fromJson(const QJsonObject& json, const std::string& origin) {
    const JsonReader r(origin);
    if (json.value("format").toString() != kFormat)
        fail(origin + ": not a Raven dataset manifest (\"format\" is not \"" + kFormat + "\")",
             "give the manifest.json that `raven dataset import` wrote");
    const auto version = r.integer(r.member(json, "version"), "version");
    if (version != kVersion)
        fail(origin + ": manifest version " + std::to_string(version) + ", this Raven reads version " +
                 std::to_string(kVersion),
             "update Raven, or re-import the dataset with this version");
    Manifest m;
    m.id = r.string(r.member(json, "id"), "id");
    m.name = r.string(r.member(json, "name"), "name").toStdString();
    m.featureShape = r.shape(r.member(json, "featureShape"), "featureShape");
    m.labelShape = r.shape(r.member(json, "labelShape"), "labelShape");
    if (m.featureShape.empty()) r.bad("featureShape is empty");
    if (!checkedProduct(m.featureShape) || !checkedProduct(m.labelShape))
        r.bad("featureShape " + shapeString(m.featureShape) + " or labelShape " + shapeString(m.labelShape) +
              " has more elements than fit in 64 bits");
    try {
        m.elementType = elementTypeFromString(r.string(r.member(json, "elementType"), "elementType").toStdString());
        const QJsonObject norm = r.object(r.member(json, "normalization"), "normalization");
        m.normalization.kind = normalizationKindFromString(
            r.string(r.member(norm, "kind", " in normalization"), "normalization.kind").toStdString());
        m.normalization.mean = r.floats(r.member(norm, "mean", " in normalization"), "normalization.mean");
        m.normalization.std = r.floats(r.member(norm, "std", " in normalization"), "normalization.std");
    } catch (const Error& e) {
        r.bad(e.message());
    }
    const std::size_t channels = m.normalization.kind == NormalizationKind::None ? 0
                                 : m.normalization.kind == NormalizationKind::Global
                                     ? 1
                                     : static_cast<std::size_t>(m.featureShape[0]);
    if (m.normalization.mean.size() != channels || m.normalization.std.size() != channels)
        r.bad("normalization \"" + toString(m.normalization.kind) + "\" needs " + std::to_string(channels) +
              " means and stds for feature shape " + shapeString(m.featureShape));
    for (float s : m.normalization.std)
        if (!(s > 0)) r.bad("normalization.std holds " + std::to_string(s) + " (must be positive)");
    for (const auto& c : r.array(r.member(json, "classes"), "classes"))
        m.classes.push_back(r.string(c, "a class name").toStdString());
    if (m.classes.empty()) r.bad("classes is empty");
    m.shardSize = r.integer(r.member(json, "shardSize"), "shardSize");
    if (m.shardSize == 0) r.bad("shardSize is 0");
    m.train = readSplit(r, json, "train");
    m.test = readSplit(r, json, "test");
    const QString expected = m.computeId();
    if (m.id != expected)
        fail(origin + ": the manifest's id " + str(m.id.left(12)) + "... does not match its content (" +
                 str(expected.left(12)) + "...); it was edited or damaged",
             "re-import the dataset or fetch the manifest again; never edit a manifest by hand");
    return m;
}

Manifest Manifest::fromBytes(const QByteArray& bytes, const std::string& origin) {
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
    if (error.error != QJsonParseError::NoError)
        fail(origin + ": not valid JSON at byte " + std::to_string(error.offset) + ": " + str(error.errorString()),
             "the manifest is damaged: re-import the dataset or fetch the manifest again");
    if (!doc.isObject()) fail(origin + ": the JSON is not an object", "give a Raven dataset manifest");
    return fromJson(doc.object(), origin);
}

void Manifest::save(const QString& path) const {
    QSaveFile file(path);
    RAVEN_CHECK(file.open(QIODevice::WriteOnly), "cannot write " + str(path) + ": " + str(file.errorString()),
                "check that the directory exists and is writable");
    file.write(toBytes());
    RAVEN_CHECK(file.commit(), "cannot write " + str(path) + ": " + str(file.errorString()),
                "check that the disk is not full");
}

Manifest Manifest::load(const QString& path) {
    QFile file(path);
    RAVEN_CHECK(file.exists(), str(path) + ": no such file", "give the manifest written by `raven dataset import`");
    RAVEN_CHECK(file.open(QIODevice::ReadOnly), str(path) + ": cannot be read: " + str(file.errorString()),
                "check the file's permissions");
    return fromBytes(file.readAll(), str(path));
}

}  // namespace raven::data
