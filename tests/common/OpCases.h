#pragma once
// The backend op table: one row per case of one Backend kernel, shared by every harness that checks a
// backend (as ggml's test-backend-ops), so that adding an op means adding one row here.
//
// A row names the case, gives its inputs (shape, what values, an optional view: transposed, narrowed,
// broadcast), the Backend call, the tolerance of the comparison (normalized MSE, or bit-exact), whether
// the backends have a verifiable kernel for it (KernelMode.h), and, where the op is differentiable, the
// same op through autograd for the finite-difference check (GradCheck.h), given the row's inputs with
// their views applied.
//
// Who runs the table:
//  - tests/tensor (CPU): each row in the verifiable mode against the fast mode (tolerance), bit-identical
//    across thread counts, rows without a verifiable kernel refused with a clear error, and the
//    finite-difference check in both modes;
//  - tests/vulkan_backend: each row on Vulkan (lavapipe) against the CPU backend;
//  - `raven-bench-vulkan --what check`: each row on the GPU against the CPU backend.
// All judge by common/ErrorMetric.h. Qt-free.
//
//   for (const OpCase& c : opCases()) {
//       const CaseOutcome o = compareBackends(c, gpu, cpuBackend());
//       if (!o.passed) std::cerr << c.name << ": " << o.detail << "\n";
//   }
#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/LayerOps.h"
#include "autograd/Ops.h"
#include "autograd/Variable.h"
#include "common/ErrorMetric.h"
#include "tensor/Backend.h"
#include "tensor/Tensor.h"
#include "tensor/TensorOps.h"

namespace raven::test {

// What values an input holds.
enum class Values {
    Signed,      // uniform in [-2, 2)
    Positive,    // uniform in [0.1, 2): log, sqrt, fractional powers
    ClassIndex,  // integers in [0, classes) as floats: cross-entropy targets, embedding indices
};

struct OpInput {
    Shape shape;
    Values values = Values::Signed;
    int64_t classes = 0;  // for ClassIndex
    // Applied to the uploaded tensor before the call (the kernel sees a strided or broadcast view).
    std::function<Tensor(const Tensor&)> view;
};

struct Tolerance {
    double nmse = 0.0;  // largest normalized MSE accepted (ErrorMetric.h)
    bool bitExact = false;
    static Tolerance exact() { return {0.0, true}; }
    static Tolerance within(double nmse) { return {nmse, false}; }
};

using OpCall = std::function<std::vector<Tensor>(Backend&, const std::vector<Tensor>&)>;
using AutogradForm = std::function<Variable(const std::vector<Variable>&)>;

struct OpCase {
    std::string name;
    std::vector<OpInput> inputs;
    OpCall run;  // the Backend call; every returned tensor is compared
    Tolerance tolerance;
    bool verifiable = true;  // the backends have a KernelMode::Verifiable kernel for it
    AutogradForm gradient;   // empty: not checked by finite differences
    std::vector<bool> noGradient = {};  // inputs the finite-difference check skips (indices, targets)
};

// fp32 kernels against each other (exp, log, tanh, erf from different implementations included).
inline constexpr double kFp32 = 1e-7;
// The verifiable mode's shared transcendentals against the fast mode's libm: a few ulp.
inline constexpr double kTranscendental = 1e-6;

inline std::vector<float> inputValues(const OpInput& in, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<float> v(static_cast<size_t>(numelOf(in.shape)));
    if (in.values == Values::ClassIndex) {
        std::uniform_int_distribution<int64_t> dist(0, std::max<int64_t>(in.classes, 1) - 1);
        for (float& x : v) x = static_cast<float>(dist(rng));
        return v;
    }
    const float low = in.values == Values::Positive ? 0.1f : -2.0f;
    std::uniform_real_distribution<float> dist(low, 2.0f);
    for (float& x : v) x = dist(rng);
    return v;
}

// The row's inputs on `backend`, views applied.
inline std::vector<Tensor> makeInputs(const OpCase& c, Backend& backend, unsigned seed) {
    std::vector<Tensor> out;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
        const OpInput& in = c.inputs[i];
        Tensor t = fromVector(in.shape, inputValues(in, seed + static_cast<unsigned>(i) * 7919u), backend);
        out.push_back(in.view ? in.view(t) : t);
    }
    return out;
}

struct CaseOutcome {
    bool passed = true;
    double worstNmse = 0.0;
    std::string detail;  // what failed: which output, the error or the first differing element
};

// Runs the row on both backends with the same inputs and judges every output by the row's tolerance.
inline CaseOutcome compareBackends(const OpCase& c, Backend& tested, Backend& reference, unsigned seed = 1) {
    const std::vector<Tensor> got = c.run(tested, makeInputs(c, tested, seed));
    const std::vector<Tensor> want = c.run(reference, makeInputs(c, reference, seed));
    CaseOutcome o;
    std::ostringstream detail;
    if (got.size() != want.size()) return {false, INFINITY, "the backends returned different numbers of outputs"};
    for (size_t i = 0; i < got.size(); ++i) {
        if (got[i].defined() != want[i].defined()) {
            o.passed = false;
            detail << "output " << i << " defined on one backend only; ";
            continue;
        }
        if (!got[i].defined()) continue;
        if (got[i].shape() != want[i].shape()) {
            o.passed = false;
            detail << "output " << i << " shapes differ; ";
            continue;
        }
        const std::vector<float> g = got[i].toVector(), w = want[i].toVector();
        const double e = normalizedMse(g, w);
        o.worstNmse = std::max(o.worstNmse, e);
        if (c.tolerance.bitExact) {
            const int64_t at = firstBitDifference(g, w);
            if (at >= 0) {
                o.passed = false;
                detail << "output " << i << " differs first at element " << at << " (" << g[static_cast<size_t>(at)]
                       << " vs " << w[static_cast<size_t>(at)] << "); ";
            }
        } else if (!(e <= c.tolerance.nmse)) {
            o.passed = false;
            detail << "output " << i << " normalized MSE " << e << " > " << c.tolerance.nmse << "; ";
        }
    }
    o.detail = detail.str();
    return o;
}

// --- the table ---

namespace opcases {

inline Tensor transposed(const Tensor& t) { return t.transpose(0, 1); }
inline Tensor narrowedLast(const Tensor& t) { return t.narrow(t.dim() - 1, 1, t.size(-1) - 2); }
// [a, b] seen as [3, a, b] through a stride-0 leading dimension.
inline Tensor broadcast3(const Tensor& t) { return t.expand({3, t.size(0), t.size(1)}); }

inline OpInput in(Shape s, Values v = Values::Signed, std::function<Tensor(const Tensor&)> view = {}) {
    return OpInput{std::move(s), v, 0, std::move(view)};
}
inline OpInput classes(Shape s, int64_t n) { return OpInput{std::move(s), Values::ClassIndex, n, {}}; }

// [288] seen as 7-D with every dimension reversed: a view that coalesces into nothing simpler.
inline Tensor sevenDims(const Tensor& t) {
    return t.view({2, 2, 3, 2, 2, 2, 3}).permute({6, 5, 4, 3, 2, 1, 0});
}

inline std::vector<Tensor> one(Tensor t) { return {std::move(t)}; }

}  // namespace opcases

inline const std::vector<OpCase>& opCases() {
    using namespace opcases;
    static const std::vector<OpCase> table = [] {
        std::vector<OpCase> t;
        // Elementwise: a single element, a prime length, a transposed, a narrowed and a broadcast view.
        for (int op = 0; op <= static_cast<int>(UnaryOp::GeluErf); ++op) {
            const auto u = static_cast<UnaryOp>(op);
            const bool positive = u == UnaryOp::Log || u == UnaryOp::Sqrt;
            const Values v = positive ? Values::Positive : Values::Signed;
            const bool transcendental = u != UnaryOp::Neg && u != UnaryOp::Abs && u != UnaryOp::Relu;
            const Tolerance tol = Tolerance::within(transcendental ? kTranscendental : 0.0);
            const OpCall call = [u](Backend& b, const std::vector<Tensor>& x) { return one(b.unary(u, x[0])); };
            const std::string name = std::string("unary ") + unaryOpName(u);
            t.push_back({name + " [1]", {in({1}, v)}, call, tol});
            t.push_back({name + " [3,517]", {in({3, 517}, v)}, call, tol});
            t.push_back({name + " transposed [7,33]", {in({7, 33}, v, transposed)}, call, tol});
            t.push_back({name + " narrowed [6,11]", {in({6, 11}, v, narrowedLast)}, call, tol});
            t.push_back({name + " broadcast [5,9]", {in({5, 9}, v, broadcast3)}, call, tol});
            t.push_back({name + " 7-D permuted", {in({288}, v, sevenDims)}, call, tol});
        }
        t.push_back({"unary Exp empty [0,5]", {in({0, 5})},
                     [](Backend& b, const std::vector<Tensor>& x) { return one(b.unary(UnaryOp::Exp, x[0])); },
                     Tolerance::exact()});
        for (int op = 0; op <= static_cast<int>(BinaryOp::GeluErfBackward); ++op) {
            const auto bo = static_cast<BinaryOp>(op);
            const bool transcendental = bo == BinaryOp::Div || bo == BinaryOp::GeluTanhBackward ||
                                        bo == BinaryOp::GeluErfBackward;
            const Tolerance tol = Tolerance::within(transcendental ? kTranscendental : kFp32);
            const OpCall call = [bo](Backend& b, const std::vector<Tensor>& x) { return one(b.binary(bo, x[0], x[1])); };
            const std::string name = std::string("binary ") + binaryOpName(bo);
            t.push_back({name + " [13,7]", {in({13, 7}), in({13, 7}, Values::Positive)}, call, tol});
            t.push_back({name + " transposed and broadcast [3,11,5]",
                         {in({5, 11}, Values::Signed, transposed), in({11, 5}, Values::Positive, broadcast3)},
                         [bo](Backend& b, const std::vector<Tensor>& x) {
                             return one(b.binary(bo, x[0].expand({3, 11, 5}), x[1]));
                         },
                         tol});
            // Broadcast on both sides: [4,1,5] and [3,5] -> [4,3,5].
            t.push_back({name + " broadcast both [4,1,5] [3,5]", {in({4, 1, 5}), in({3, 5}, Values::Positive)},
                         [bo](Backend& b, const std::vector<Tensor>& x) {
                             return one(b.binary(bo, x[0].expand({4, 3, 5}), x[1].expand({4, 3, 5})));
                         },
                         tol});
        }
        const auto scalarCase = [](ScalarOp op, float s, Values v, Tolerance tol) {
            const char* names[] = {"add", "mul", "pow"};
            std::ostringstream name;
            name << "scalar " << names[static_cast<int>(op)] << " " << s << " [13,7] transposed";
            return OpCase{name.str(),
                          {in({7, 13}, v, transposed)},
                          [op, s](Backend& b, const std::vector<Tensor>& x) { return one(b.scalar(op, x[0], s)); },
                          tol};
        };
        t.push_back(scalarCase(ScalarOp::Add, 1.5f, Values::Signed, Tolerance::exact()));
        t.push_back(scalarCase(ScalarOp::Mul, -0.25f, Values::Signed, Tolerance::exact()));
        for (float e : {2.0f, 1.0f, 0.5f, 3.0f, -1.5f, 0.0f})
            t.push_back(scalarCase(ScalarOp::Pow, e, Values::Positive, Tolerance::within(kTranscendental)));

        // Reductions: one axis, two axes, everything, of a shape with a size-1 and prime sizes.
        for (const std::vector<int>& axes : std::vector<std::vector<int>>{{1}, {0, 2}, {0, 1, 2}, {2}}) {
            std::string a;
            for (int x : axes) a += std::to_string(x);
            for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max}) {
                const bool isSum = op == ReduceOp::Sum;
                t.push_back({std::string(isSum ? "sum" : "max") + " axes " + a + " [5,1,7]x[..,97]",
                             {in({5, 7, 97}, Values::Signed, [](const Tensor& x) { return x.narrow(1, 3, 1); })},
                             [op, axes](Backend& b, const std::vector<Tensor>& x) {
                                 return one(b.reduce(op, x[0], axes, false));
                             },
                             Tolerance::within(isSum ? kFp32 : 0.0),
                             true,
                             isSum ? AutogradForm([axes](const std::vector<Variable>& v) {
                                 std::vector<int64_t> ax(axes.begin(), axes.end());
                                 return raven::sum(v[0], ax);
                             })
                                 : AutogradForm()});
            }
        }

        // Contiguous [A, R, C] with C > 1 (a bias gradient: the CPU's "outer" loop nest), and one output
        // over more than one block of 65536 (CpuReduce.cpp's order).
        struct Reduction {
            std::string name;
            Shape shape;
            std::vector<int> axes;
        };
        for (const Reduction& r :
             {Reduction{"axes 0 [130,37] (bias gradient)", {130, 37}, {0}},
              Reduction{"axes 1 [3,20,7]", {3, 20, 7}, {1}}, Reduction{"axes 0 [140001] (three blocks)", {140001}, {0}},
              Reduction{"axes 0 [0,5] (empty)", {0, 5}, {0}}}) {
            for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max}) {
                const std::vector<int> axes = r.axes;
                t.push_back({std::string(op == ReduceOp::Sum ? "sum " : "max ") + r.name,
                             {in(r.shape)},
                             [op, axes](Backend& b, const std::vector<Tensor>& x) {
                                 return one(b.reduce(op, x[0], axes, false));
                             },
                             Tolerance::within(op == ReduceOp::Sum ? kFp32 : 0.0)});
            }
        }

        // Matrix products: 1x1, primes, a transposed operand, batched, with a bias.
        const auto matmulCase = [](std::string name, OpInput a, OpInput b, bool bias) {
            std::vector<OpInput> ins{std::move(a), std::move(b)};
            const int64_t n = ins[1].shape.back();
            if (bias) ins.push_back(in({n}));
            return OpCase{"matmul " + std::move(name), ins,
                          [](Backend& be, const std::vector<Tensor>& x) {
                              return one(be.matmul(x[0], x[1], x.size() > 2 ? x[2] : Tensor()));
                          },
                          Tolerance::within(kFp32), true,
                          [bias](const std::vector<Variable>& v) {
                              const Variable p = matmul(v[0], v[1]);
                              return bias ? add(p, v[2]) : p;
                          }};
        };
        t.push_back(matmulCase("[1,1]x[1,1]", in({1, 1}), in({1, 1}), false));
        t.push_back(matmulCase("[17,31]x[31,13] + bias", in({17, 31}), in({31, 13}), true));
        t.push_back(matmulCase("[5,3]x([7,3])^T", in({5, 3}), in({7, 3}, Values::Signed, transposed), false));
        t.push_back(matmulCase("[67,129]x[129,70] + bias", in({67, 129}), in({129, 70}), true));
        t.push_back({"matmul batched [2,3,4]x[2,4,5]", {in({2, 3, 4}), in({2, 4, 5})},
                     [](Backend& be, const std::vector<Tensor>& x) { return one(be.matmul(x[0], x[1], Tensor())); },
                     Tolerance::within(kFp32)});

        // Along the last axis.
        struct Rows {
            std::string name;
            Shape shape;
            std::function<Tensor(const Tensor&)> view;
        };
        for (const Rows& r : {Rows{"[1,1]", {1, 1}, {}}, Rows{"[3,1]", {3, 1}, {}}, Rows{"[4,11]", {4, 11}, {}},
                              Rows{"[3,1000]", {3, 1000}, {}}, Rows{"[2,3,130]", {2, 3, 130}, {}},
                              Rows{"[40,7] transposed", {40, 7}, transposed}, Rows{"[130,10]", {130, 10}, {}}}) {
            const std::string dims = r.name;
            const Shape s = r.shape;
            const auto rowIn = [&r](const Shape& shape) { return opcases::in(shape, Values::Signed, r.view); };
            t.push_back({"softmax " + dims, {rowIn(s)},
                         [](Backend& b, const std::vector<Tensor>& x) { return one(b.softmax(x[0])); },
                         Tolerance::within(kTranscendental), true,
                         [](const std::vector<Variable>& v) { return softmax(v[0]); }});
            t.push_back({"logSoftmax " + dims, {rowIn(s)},
                         [](Backend& b, const std::vector<Tensor>& x) { return one(b.logSoftmax(x[0])); },
                         Tolerance::within(kTranscendental), true,
                         [](const std::vector<Variable>& v) { return logSoftmax(v[0]); }});
            t.push_back({"softmaxBackward " + dims, {rowIn(s), rowIn(s)},
                         [](Backend& b, const std::vector<Tensor>& x) {
                             return one(b.softmaxBackward(b.softmax(x[0]), x[1]));
                         },
                         Tolerance::within(kTranscendental)});
            t.push_back({"logSoftmaxBackward " + dims, {rowIn(s), rowIn(s)},
                         [](Backend& b, const std::vector<Tensor>& x) {
                             return one(b.logSoftmaxBackward(b.logSoftmax(x[0]), x[1]));
                         },
                         Tolerance::within(kTranscendental)});
        }
        struct Loss {
            int64_t n, classes;
            float smoothing;
        };
        for (const Loss& l :
             {Loss{1, 1, 0.0f}, Loss{6, 10, 0.0f}, Loss{6, 10, 0.1f}, Loss{5, 130, 0.3f}, Loss{129, 10, 0.1f}}) {
            const float smoothing = l.smoothing;
            std::ostringstream nm;
            nm << "[" << l.n << "," << l.classes << "]" << (smoothing == 0.0f ? "" : " smoothing ");
            if (smoothing != 0.0f) nm << smoothing;
            const std::string sm = nm.str();
            t.push_back({"crossEntropy " + sm, {in({l.n, l.classes}), classes({l.n}, l.classes)},
                         [smoothing](Backend& b, const std::vector<Tensor>& x) {
                             return one(b.crossEntropy(x[0], x[1], smoothing));
                         },
                         Tolerance::within(kTranscendental), true,
                         [smoothing](const std::vector<Variable>& v) {
                             return crossEntropy(v[0], v[1].tensor(), smoothing);
                         },
                         {false, true}});
            t.push_back({"crossEntropyBackward " + sm, {in({l.n, l.classes}), classes({l.n}, l.classes), in({l.n})},
                         [smoothing](Backend& b, const std::vector<Tensor>& x) {
                             return one(b.crossEntropyBackward(x[0], x[1], x[2], smoothing));
                         },
                         Tolerance::within(kTranscendental)});
        }

        // Layers: odd sizes, padding, strides, groups; every gradient of the backward.
        struct Conv {
            std::string name;
            Shape x, w;
            Conv2dGeometry g;
        };
        for (const Conv& c : {Conv{"3x3 pad 1 [2,3,7,7]->4", {2, 3, 7, 7}, {4, 3, 3, 3}, {.padH = 1, .padW = 1}},
                              Conv{"stride 2 [1,2,9,5]->3", {1, 2, 9, 5}, {3, 2, 3, 2}, {.strideH = 2, .strideW = 2}},
                              Conv{"groups 2 dilation 2 [3,4,8,8]->6", {3, 4, 8, 8}, {6, 2, 3, 3},
                                   {.padH = 2, .padW = 2, .dilationH = 2, .dilationW = 2, .groups = 2}},
                              Conv{"1x1 [2,5,3,3]->7", {2, 5, 3, 3}, {7, 5, 1, 1}, {}}}) {
            const Conv2dGeometry g = c.g;
            t.push_back({"conv2d " + c.name, {in(c.x), in(c.w), in({c.w[0]})},
                         [g](Backend& b, const std::vector<Tensor>& x) { return one(b.conv2d(x[0], x[1], x[2], g)); },
                         Tolerance::within(kFp32), true,
                         [g](const std::vector<Variable>& v) {
                             return conv2d(v[0], v[1], v[2],
                                           Conv2dOptions{.stride = Size2d(g.strideH, g.strideW),
                                                         .padding = Size2d(g.padH, g.padW),
                                                         .dilation = Size2d(g.dilationH, g.dilationW),
                                                         .groups = g.groups});
                         }});
            const Shape xs = c.x;
            t.push_back({"conv2dBackward " + c.name, {in(c.x), in(c.w)},
                         [g, xs](Backend& b, const std::vector<Tensor>& x) {
                             const Tensor y = b.conv2d(x[0], x[1], Tensor(), g);
                             const Tensor dy = b.scalar(ScalarOp::Mul, y, 0.5f);
                             const LayerGrads r = b.conv2dBackward(x[0], x[1], dy, xs, g, {true, true, true});
                             return std::vector<Tensor>{r.input, r.weight, r.bias};
                         },
                         Tolerance::within(kFp32)});
        }
        const Pool2dWindow w2{.kernelH = 2, .kernelW = 2, .strideH = 2, .strideW = 2};
        const Pool2dWindow w3{.kernelH = 3, .kernelW = 3, .strideH = 2, .strideW = 2, .padH = 1, .padW = 1};
        for (const Pool2dWindow& w : {w2, w3}) {
            const std::string name = w.kernelH == 2 ? " 2x2/2 [2,3,7,7]" : " 3x3/2 pad 1 [2,3,7,7]";
            const Shape xs{2, 3, 7, 7};
            t.push_back({"maxPool2d" + name, {in(xs)},
                         [w](Backend& b, const std::vector<Tensor>& x) {
                             const MaxPool2dResult r = b.maxPool2d(x[0], w);
                             return std::vector<Tensor>{r.values, r.argmax};
                         },
                         Tolerance::exact(), true,
                         [w](const std::vector<Variable>& v) {
                             return maxPool2d(v[0], Size2d(w.kernelH, w.kernelW), Size2d(w.strideH, w.strideW),
                                              Size2d(w.padH, w.padW));
                         }});
            t.push_back({"maxPool2dBackward" + name, {in(xs)},
                         [w, xs](Backend& b, const std::vector<Tensor>& x) {
                             const MaxPool2dResult r = b.maxPool2d(x[0], w);
                             return one(b.maxPool2dBackward(r.argmax, r.values, xs, w));
                         },
                         Tolerance::exact()});
            // Average pooling divides by the window's size (vDiv in the verifiable mode); with padding,
            // count_include_pad false makes the border windows' divisors differ from the inside ones.
            for (const bool includePad : {true, false}) {
                if (!includePad && w.padH == 0) continue;
                const std::string pad = includePad ? "" : " count_include_pad false";
                t.push_back({"avgPool2d" + name + pad, {in(xs)},
                             [w, includePad](Backend& b, const std::vector<Tensor>& x) {
                                 return one(b.avgPool2d(x[0], w, includePad));
                             },
                             Tolerance::within(kFp32), true,
                             [w, includePad](const std::vector<Variable>& v) {
                                 return avgPool2d(v[0], Size2d(w.kernelH, w.kernelW), Size2d(w.strideH, w.strideW),
                                                  Size2d(w.padH, w.padW), includePad);
                             }});
                t.push_back({"avgPool2dBackward" + name + pad, {in(xs)},
                             [w, xs, includePad](Backend& b, const std::vector<Tensor>& x) {
                                 const Tensor y = b.avgPool2d(x[0], w, includePad);
                                 return one(b.avgPool2dBackward(b.scalar(ScalarOp::Mul, y, 0.5f), xs, w, includePad));
                             },
                             Tolerance::within(kFp32)});
            }
        }

        // Fused optimizer steps: the first step (no moments) and a later one, with both weight decays.
        for (bool firstStep : {true, false}) {
            t.push_back({std::string("adamUpdate [37,11]") + (firstStep ? " first step" : ""),
                         {in({37, 11}), in({37, 11}), in({37, 11}), in({37, 11}, Values::Positive)},
                         [firstStep](Backend& b, const std::vector<Tensor>& x) {
                             AdamStepScalars s;
                             s.weightDecay = 0.01f;
                             s.decayFactor = 0.999f;
                             s.invSqrtCorrection2 = 1.3f;
                             const AdamUpdate u = firstStep ? b.adamUpdate(x[0], x[1], Tensor(), Tensor(), s)
                                                            : b.adamUpdate(x[0], x[1], x[2], x[3], s);
                             return std::vector<Tensor>{u.param, u.expAvg, u.expAvgSq};
                         },
                         Tolerance::within(kTranscendental)});
        }

        // Kernels without a verifiable form yet: the verifiable mode refuses them (CpuBackend.h).
        t.push_back({"layerNorm [5,33]", {in({5, 33}), in({33}), in({33})},
                     [](Backend& b, const std::vector<Tensor>& x) {
                         const NormResult r = b.layerNorm(x[0], 33, x[1], x[2], 1e-5f);
                         return std::vector<Tensor>{r.y, r.mean, r.invStd};
                     },
                     Tolerance::within(kFp32), false});
        t.push_back({"batchNorm training [4,3,5,5]", {in({4, 3, 5, 5}), in({3}), in({3})},
                     [](Backend& b, const std::vector<Tensor>& x) {
                         const NormResult r = b.batchNorm(x[0], x[1], x[2], Tensor(), Tensor(), true, 0.1f, 1e-5f);
                         return std::vector<Tensor>{r.y, r.mean, r.invStd};
                     },
                     Tolerance::within(kFp32), false});
        t.push_back({"attention causal [1,2,5,8]", {in({1, 2, 5, 8}), in({1, 2, 5, 8}), in({1, 2, 5, 8})},
                     [](Backend& b, const std::vector<Tensor>& x) {
                         const AttentionResult r = b.attention(x[0], x[1], x[2], true, 0.0f);
                         return std::vector<Tensor>{r.out, r.probs};
                     },
                     Tolerance::within(kTranscendental), false});
        t.push_back({"embedding [4,3] from [11,6]", {classes({4, 3}, 11), in({11, 6})},
                     [](Backend& b, const std::vector<Tensor>& x) { return one(b.embedding(x[0], x[1])); },
                     Tolerance::exact(), true});
        t.push_back({"dropout p=0.3 [9,13]", {in({9, 13})},
                     [](Backend& b, const std::vector<Tensor>& x) { return one(b.dropout(x[0], 0.3f, 42, 5)); },
                     Tolerance::within(kFp32), false});
        return t;
    }();
    return table;
}

}  // namespace raven::test
