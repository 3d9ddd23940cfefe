#include "vulkan/VerifiableGate.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>

#include "cpu/kernels/VerifiableMath.h"
#include "vulkan/Device.h"
#include "vulkan/Recorder.h"
#include "vulkan/VectorAdd.h"

namespace raven::vulkan {

namespace {

namespace vm = raven::verifiable;

enum Probe : std::uint32_t { Exp, Log, Tanh, Sigmoid, Erf, Sqrt, Div, Pow, Expm1, MultiplyAdd, Add, Multiply, Subtract };

struct Params {
    std::uint32_t n;
    std::uint32_t fn;
};

std::uint32_t bitsOf(float x) {
    std::uint32_t b = 0;
    std::memcpy(&b, &x, sizeof b);
    return b;
}

float fromBits(std::uint32_t b) {
    float x = 0.0f;
    std::memcpy(&x, &b, sizeof x);
    return x;
}

std::string hex(float x) {
    std::ostringstream s;
    s << x << " (0x" << std::hex << bitsOf(x) << ")";
    return s.str();
}

// r[i] = fn(x[i], y[i]) on the device.
std::vector<float> probe(Device& device, Probe fn, const std::vector<float>& x, const std::vector<float>& y) {
    const VkDeviceSize bytes = x.size() * sizeof(float);
    Buffer dx = device.createBuffer(bytes), dy = device.createBuffer(bytes), dr = device.createBuffer(bytes);
    const std::uint32_t local = vectorAddWorkgroupSize(device);
    const Pipeline& pipeline = device.pipelines().get({"verifiable_math_probe", 3, sizeof(Params), {local}});
    std::vector<float> r(x.size());
    Recorder recorder(device);
    recorder.upload(dx.range(), std::span<const float>(x));
    recorder.upload(dy.range(), std::span<const float>(y));
    recorder.dispatch(pipeline, {{dx.range(), Access::Read}, {dy.range(), Access::Read}, {dr.range(), Access::Write}},
                      Params{static_cast<std::uint32_t>(x.size()), fn}, Recorder::groupsFor(x.size(), local));
    recorder.download(dr.range(), std::span<float>(r));
    recorder.submit();
    return r;
}

float cpu(Probe fn, float a, float b) {
    switch (fn) {
        case Exp: return vm::vExp(a);
        case Log: return vm::vLog(a);
        case Tanh: return vm::vTanh(a);
        case Sigmoid: return vm::vSigmoid(a);
        case Erf: return vm::vErf(a);
        case Sqrt: return vm::vSqrt(a);
        case Div: return vm::vDiv(a, b);
        case Pow: return vm::vPow(a, b);
        case Expm1: return vm::vExpm1(a);
        default: return 0.0f;
    }
}

// One IEEE 754 case: fn(a, b) must have exactly the bits of `want` (any NaN for a NaN).
struct Case {
    const char* what;
    Probe fn;
    float a, b, want;
};

}  // namespace

std::string VerifiableGate::summary() const {
    if (admitted) return "verifiable units: yes (IEEE rounding, signed zeros, subnormals, no contraction, golden results)";
    std::string s = "verifiable units: no";
    for (size_t i = 0; i < failures.size(); ++i) s += (i ? "; " : ": ") + failures[i];
    return s;
}

VerifiableGate checkVerifiableGate(Device& device) {
    VerifiableGate gate;
    const float inf = INFINITY;
    const float sub = fromBits(0x00000001u);  // the smallest subnormal, 2^-149
    const Case cases[] = {
        {"rounding: 1 + 2^-24 (a tie) must round to even, 1", Add, 1.0f, 0x1p-24f, 1.0f},
        {"rounding: (1 + 2^-23) + 2^-24 (a tie) must round to even, 1 + 2^-22", Add, 1.0f + 0x1p-23f, 0x1p-24f,
         1.0f + 0x1p-22f},
        {"rounding: -1 - 2^-24 must round to -1", Subtract, -1.0f, 0x1p-24f, -1.0f},
        {"rounding: (1 + 2^-23)^2 must round to 1 + 2^-22", Multiply, 1.0f + 0x1p-23f, 1.0f + 0x1p-23f, 1.0f + 0x1p-22f},
        {"rounding: (1 + 2^-12)^2 (a tie) must round to even, 1 + 2^-11", Multiply, 1.0f + 0x1p-12f, 1.0f + 0x1p-12f,
         1.0f + 0x1p-11f},
        {"signed zero: -0 + -0 must be -0", Add, -0.0f, -0.0f, -0.0f},
        {"signed zero: 0 x -1 must be -0", Multiply, 0.0f, -1.0f, -0.0f},
        {"signed zero: 1 - 1 must be +0", Subtract, 1.0f, 1.0f, 0.0f},
        {"infinity: 3e38 x 10 must overflow to infinity", Multiply, 3e38f, 10.0f, inf},
        {"infinity: -inf + 1 must stay -inf", Add, -inf, 1.0f, -inf},
        {"NaN: inf - inf must be NaN", Subtract, inf, inf, NAN},
        {"NaN: inf x 0 must be NaN", Multiply, inf, 0.0f, NAN},
        {"NaN: NaN + 1 must be NaN", Add, NAN, 1.0f, NAN},
        {"subnormals: 2^-126 x 0.5 must give the subnormal 2^-127, not 0", Multiply, 0x1p-126f, 0.5f, 0x1p-127f},
        {"subnormals: 2^-149 + 0 must stay 2^-149, not 0", Add, sub, 0.0f, sub},
        {"subnormals: 2^-149 x 2^24 must be 2^-125", Multiply, sub, 0x1p24f, 0x1p-125f},
        {"contraction: a precise 1.5 x -(1 + 2^-23) + -(1 + 2^-23) must be rounded twice", MultiplyAdd, 1.5f,
         -(1.0f + 0x1p-23f), -0x1.400004p+1f},
    };
    for (const Case& c : cases) {
        const float got = probe(device, c.fn, {c.a}, {c.b})[0];
        const bool ok = std::isnan(c.want) ? std::isnan(got) : bitsOf(got) == bitsOf(c.want);
        if (!ok) gate.failures.push_back(std::string(c.what) + ", the device gives " + hex(got));
    }
    // Golden results: each function over 4096 arguments spread over its range, against the C++ twin.
    const char* names[] = {"exp", "log", "tanh", "sigmoid", "erf", "sqrt", "division", "pow", "expm1"};
    for (std::uint32_t fn = Exp; fn <= Expm1; ++fn) {
        std::vector<float> x(4096), y(4096);
        for (size_t i = 0; i < x.size(); ++i) {
            const float t = static_cast<float>(i) / 4096.0f;
            const bool positive = fn == Log || fn == Sqrt || fn == Pow;
            x[i] = positive ? std::exp2(t * 120.0f - 60.0f) : t * 180.0f - 90.0f;
            y[i] = fn == Div ? std::exp2(t * 50.0f - 25.0f) * (i % 2 ? -1.0f : 1.0f) : 0.5f + t * 2.0f;
        }
        const std::vector<float> got = probe(device, static_cast<Probe>(fn), x, y);
        for (size_t i = 0; i < x.size(); ++i) {
            const float want = cpu(static_cast<Probe>(fn), x[i], y[i]);
            if (std::isnan(want) && std::isnan(got[i])) continue;
            if (bitsOf(got[i]) != bitsOf(want)) {
                std::ostringstream s;
                s << "golden results: " << names[fn] << "(" << x[i];
                if (fn == Div || fn == Pow) s << ", " << y[i];
                s << ") is " << hex(got[i]) << " on the device, " << hex(want) << " on the CPU";
                gate.failures.push_back(s.str());
                break;
            }
        }
    }
    gate.admitted = gate.failures.empty();
    return gate;
}

}  // namespace raven::vulkan
