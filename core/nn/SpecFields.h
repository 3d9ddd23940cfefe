#pragma once
// SpecFields: typed, checked access to one layer's kind-specific fields. Every accessor names the
// layer and the field in its raven::Error; finish() rejects fields no accessor asked for, so a typo
// ("kernal_size") is an error instead of a silently ignored setting.
//
//   SpecFields f(spec, origin);
//   int64_t out = f.positiveInt("out");
//   bool bias = f.boolean("bias", true);
//   f.finish();
#include <cstdint>
#include <set>
#include <string>
#include <utility>

#include "nn/ModelSpec.h"

namespace raven::nn {

class SpecFields {
public:
    SpecFields(const LayerSpec& spec, std::string origin);

    bool has(const char* key) const;
    // A required integer >= 1.
    std::int64_t positiveInt(const char* key);
    // An optional integer >= minimum.
    std::int64_t integer(const char* key, std::int64_t fallback, std::int64_t minimum);
    // An integer or a pair [h, w] of integers >= minimum; a single integer is used for both.
    std::pair<std::int64_t, std::int64_t> pair(const char* key, std::pair<std::int64_t, std::int64_t> fallback,
                                               std::int64_t minimum, bool required = false);
    double number(const char* key, double fallback, double minimum, double maximum);
    bool boolean(const char* key, bool fallback);
    std::string string(const char* key, const std::string& fallback);
    // A list of integers (a shape) with every entry >= minimum, except -1 when allowInfer.
    Shape shape(const char* key, bool allowInfer);

    // Throws for any field that no accessor read.
    void finish() const;

    // Throws a spec error about `key`.
    [[noreturn]] void fail(const char* key, const std::string& problem, const std::string& hint = {}) const;
    // Throws a spec error about the layer as a whole (e.g. its input shape).
    [[noreturn]] void failLayer(const std::string& problem, const std::string& hint = {}) const;

    const LayerSpec& spec() const { return spec_; }
    const std::string& origin() const { return origin_; }

private:
    const LayerSpec& spec_;
    std::string origin_;
    std::set<std::string> used_;
};

}  // namespace raven::nn
