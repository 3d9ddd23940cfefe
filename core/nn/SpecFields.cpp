#include "nn/SpecFields.h"

#include <QJsonArray>
#include <QJsonValue>

#include <cmath>

namespace raven::nn {

namespace {
// JSON numbers are doubles: an integer field must hold an exact integer in the int64 range we use.
bool asInteger(const QJsonValue& v, std::int64_t& out) {
    if (!v.isDouble()) return false;
    const double d = v.toDouble();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) return false;
    out = static_cast<std::int64_t>(d);
    return true;
}
}  // namespace

SpecFields::SpecFields(const LayerSpec& spec, std::string origin) : spec_(spec), origin_(std::move(origin)) {}

bool SpecFields::has(const char* key) const { return spec_.fields.contains(QLatin1String(key)); }

void SpecFields::fail(const char* key, const std::string& problem, const std::string& hint) const {
    specError(origin_, spec_.place, std::string("field \"") + key + "\": " + problem, hint);
}

void SpecFields::failLayer(const std::string& problem, const std::string& hint) const {
    specError(origin_, spec_.place, problem, hint);
}

std::int64_t SpecFields::positiveInt(const char* key) {
    if (!has(key)) fail(key, "is required", "give it a positive integer");
    return integer(key, 1, 1);
}

std::int64_t SpecFields::integer(const char* key, std::int64_t fallback, std::int64_t minimum) {
    used_.insert(key);
    if (!has(key)) return fallback;
    std::int64_t value = 0;
    if (!asInteger(spec_.fields.value(QLatin1String(key)), value))
        fail(key, "must be an integer", "write a whole number without quotes");
    if (value < minimum) fail(key, "must be at least " + std::to_string(minimum) + ", got " + std::to_string(value));
    return value;
}

std::pair<std::int64_t, std::int64_t> SpecFields::pair(const char* key, std::pair<std::int64_t, std::int64_t> fallback,
                                                       std::int64_t minimum, bool required) {
    used_.insert(key);
    if (!has(key)) {
        if (required) fail(key, "is required", "give an integer or a pair [height, width]");
        return fallback;
    }
    const QJsonValue v = spec_.fields.value(QLatin1String(key));
    std::int64_t a = 0, b = 0;
    if (v.isArray()) {
        const QJsonArray arr = v.toArray();
        if (arr.size() != 2 || !asInteger(arr[0], a) || !asInteger(arr[1], b))
            fail(key, "must be an integer or a pair of integers [height, width]");
    } else if (asInteger(v, a)) {
        b = a;
    } else {
        fail(key, "must be an integer or a pair of integers [height, width]");
    }
    if (a < minimum || b < minimum)
        fail(key, "must be at least " + std::to_string(minimum) + ", got [" + std::to_string(a) + ", " +
                      std::to_string(b) + "]");
    return {a, b};
}

double SpecFields::number(const char* key, double fallback, double minimum, double maximum) {
    used_.insert(key);
    if (!has(key)) return fallback;
    const QJsonValue v = spec_.fields.value(QLatin1String(key));
    if (!v.isDouble()) fail(key, "must be a number");
    const double d = v.toDouble();
    if (!(d >= minimum && d <= maximum))
        fail(key, "must lie in [" + std::to_string(minimum) + ", " + std::to_string(maximum) + "], got " +
                      std::to_string(d));
    return d;
}

bool SpecFields::boolean(const char* key, bool fallback) {
    used_.insert(key);
    if (!has(key)) return fallback;
    const QJsonValue v = spec_.fields.value(QLatin1String(key));
    if (!v.isBool()) fail(key, "must be true or false");
    return v.toBool();
}

std::string SpecFields::string(const char* key, const std::string& fallback) {
    used_.insert(key);
    if (!has(key)) return fallback;
    const QJsonValue v = spec_.fields.value(QLatin1String(key));
    if (!v.isString()) fail(key, "must be a string");
    return v.toString().toStdString();
}

Shape SpecFields::shape(const char* key, bool allowInfer) {
    used_.insert(key);
    if (!has(key)) fail(key, "is required", "give a list of sizes, e.g. [16, 7, 7]");
    const QJsonValue v = spec_.fields.value(QLatin1String(key));
    if (!v.isArray()) fail(key, "must be a list of sizes");
    Shape out;
    int inferred = 0;
    for (const QJsonValue& e : v.toArray()) {
        std::int64_t n = 0;
        if (!asInteger(e, n)) fail(key, "must be a list of integers");
        if (n == -1 && allowInfer) {
            ++inferred;
        } else if (n < 1) {
            fail(key, "sizes must be positive" + std::string(allowInfer ? " (or one -1)" : ""));
        }
        out.push_back(n);
    }
    if (inferred > 1) fail(key, "at most one size may be -1");
    return out;
}

void SpecFields::finish() const {
    for (auto it = spec_.fields.begin(); it != spec_.fields.end(); ++it) {
        const std::string key = it.key().toStdString();
        if (!used_.count(key))
            specError(origin_, spec_.place, "unknown field \"" + key + "\" for a " + spec_.kind + " layer",
                      "see docs/model-spec.md for the fields of each kind");
    }
}

}  // namespace raven::nn
