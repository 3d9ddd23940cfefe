// Reductions (sum, max) over any set of axes, in one order that depends only on the logical shape:
// for each output element, its reduced elements are taken in row-major order of the reduced axes as
// r = 0..R-1; they are cut into blocks of kBlock; inside a block element r goes to lane r % 8, each
// lane accumulates in order, and the lanes are combined as ((0+1)+(2+3))+((4+5)+(6+7)); the block
// results are then combined in order. Two loop nests compute exactly this order:
//  - "inner": the reduced elements of an output are contiguous (after viewing the kept axes first);
//  - "outer": x is contiguous and the reduced axes are one run with C > 1 trailing elements
//    ([A, R, C]): rows are accumulated into 8 lane rows, vectorised across C (bias gradients).
// Any other layout is first copied into the "inner" layout. Threads split outputs (or, for a single
// output, blocks), so the thread count never changes a result.
#include <algorithm>
#include <array>
#include <limits>

#include "base/Error.h"
#include "cpu/CpuBackend.h"

namespace raven {

namespace {
constexpr int64_t kBlock = 1 << 16;
constexpr int kLanes = 8;

struct SumOp {
    static constexpr float init = 0.0f;
    float operator()(float a, float b) const { return a + b; }
};
struct MaxOp {
    static constexpr float init = -std::numeric_limits<float>::infinity();
    float operator()(float a, float b) const { return b > a ? b : a; }
};

template <class Op>
float combineLanes(const float* acc, Op op) {
    return op(op(op(acc[0], acc[1]), op(acc[2], acc[3])), op(op(acc[4], acc[5]), op(acc[6], acc[7])));
}

template <class Op>
float reduceBlock(const float* x, int64_t n, Op op) {
    float acc[kLanes];
    for (float& a : acc) a = Op::init;
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        for (int j = 0; j < kLanes; ++j) acc[j] = op(acc[j], x[i + j]);
    }
    for (int j = 0; i + j < n; ++j) acc[j] = op(acc[j], x[i + j]);
    return combineLanes(acc, op);
}

template <class Op>
float reduceContiguous(const float* x, int64_t r, Op op) {
    if (r == 0) return Op::init;
    float total = reduceBlock(x, std::min(kBlock, r), op);
    for (int64_t b = kBlock; b < r; b += kBlock) total = op(total, reduceBlock(x + b, std::min(kBlock, r - b), op));
    return total;
}

// out[a, c] for c in [c0, c0 + width) over x laid out as [A, R, C].
template <class Op>
void reduceRows(const float* x, int64_t r, int64_t c, int64_t c0, int64_t width, float* out, Op op) {
    constexpr int64_t kMaxWidth = 256;
    float acc[kLanes][kMaxWidth];
    float total[kMaxWidth];
    for (int64_t b = 0; b < r || b == 0; b += kBlock) {
        const int64_t n = std::min(kBlock, r - b);
        for (auto& lane : acc) std::fill(lane, lane + width, Op::init);
        for (int64_t i = 0; i < n; ++i) {
            const float* row = x + (b + i) * c + c0;
            float* lane = acc[i % kLanes];
            for (int64_t j = 0; j < width; ++j) lane[j] = op(lane[j], row[j]);
        }
        for (int64_t j = 0; j < width; ++j) {
            float lanes[kLanes];
            for (int l = 0; l < kLanes; ++l) lanes[l] = acc[l][j];
            const float v = combineLanes(lanes, op);
            total[j] = b == 0 ? v : op(total[j], v);
        }
        if (r == 0) break;
    }
    std::copy(total, total + width, out);
}

template <class Op>
void runReduce(CpuBackend& backend, const Tensor& x, const std::vector<int>& axes, const Tensor& out, Op op) {
    ThreadPool& pool = backend.pool();
    const int64_t rank = x.dim();
    std::vector<bool> reduced(static_cast<size_t>(rank), false);
    for (int a : axes) reduced[static_cast<size_t>(a)] = true;
    int64_t outCount = 1, r = 1;
    for (int64_t d = 0; d < rank; ++d)
        (reduced[static_cast<size_t>(d)] ? r : outCount) *= x.shape()[static_cast<size_t>(d)];
    float* o = CpuBackend::hostData(out);
    if (outCount == 0) return;

    // "outer": contiguous x whose reduced axes form one run followed by C > 1 elements.
    const bool run = axes.back() - axes.front() + 1 == static_cast<int>(axes.size());
    int64_t c = 1;
    for (int64_t d = axes.back() + 1; d < rank; ++d) c *= x.shape()[static_cast<size_t>(d)];
    if (x.isContiguous() && run && c > 1) {
        const float* in = CpuBackend::hostData(x);
        const int64_t a = outCount / c;
        constexpr int64_t kWidth = 256;
        const int64_t tilesPerRow = (c + kWidth - 1) / kWidth;
        const int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(1, r * kWidth));
        pool.parallelFor(a * tilesPerRow, grain, [&](int64_t begin, int64_t end) {
            for (int64_t t = begin; t < end; ++t) {
                const int64_t ai = t / tilesPerRow, c0 = (t % tilesPerRow) * kWidth;
                reduceRows(in + ai * r * c, r, c, c0, std::min(kWidth, c - c0), o + ai * c + c0, op);
            }
        });
        return;
    }

    // "inner": view the kept axes first, the reduced ones last, and make the reduced block dense.
    std::vector<int64_t> order;
    for (int64_t d = 0; d < rank; ++d)
        if (!reduced[static_cast<size_t>(d)]) order.push_back(d);
    for (int a : axes) order.push_back(a);
    Tensor p = x.permute(order);
    bool dense = true;
    int64_t expected = 1;
    for (size_t k = order.size(); k-- > order.size() - axes.size();) {
        if (p.shape()[k] == 1) continue;
        dense = dense && p.strides()[k] == expected;
        expected *= p.shape()[k];
    }
    if (!dense) p = p.contiguous();
    const float* in = CpuBackend::hostData(p);
    const size_t kept = order.size() - axes.size();
    const Shape keptShape(p.shape().begin(), p.shape().begin() + static_cast<std::ptrdiff_t>(kept));
    const Strides keptStrides(p.strides().begin(), p.strides().begin() + static_cast<std::ptrdiff_t>(kept));
    auto base = [&](int64_t outIndex) {
        int64_t off = 0;
        for (size_t d = kept; d-- > 0;) {
            off += (outIndex % keptShape[d]) * keptStrides[d];
            outIndex /= keptShape[d];
        }
        return off;
    };
    if (outCount == 1 && r > kBlock) {
        const int64_t blocks = (r + kBlock - 1) / kBlock;
        std::vector<float> partial(static_cast<size_t>(blocks));
        pool.parallelFor(blocks, 1, [&](int64_t begin, int64_t end) {
            for (int64_t b = begin; b < end; ++b) {
                partial[static_cast<size_t>(b)] = reduceBlock(in + b * kBlock, std::min(kBlock, r - b * kBlock), op);
            }
        });
        float total = partial[0];
        for (size_t b = 1; b < partial.size(); ++b) total = op(total, partial[b]);
        o[0] = total;
        return;
    }
    const int64_t grain = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, r));
    pool.parallelFor(outCount, grain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) o[i] = reduceContiguous(in + base(i), r, op);
    });
}
}  // namespace

Tensor CpuBackend::reduce(ReduceOp op, const Tensor& x, const std::vector<int>& axes, bool keepDim) {
    RAVEN_ASSERT(!axes.empty(), "CpuBackend::reduce needs at least one axis");
    Shape outShape;
    for (int64_t d = 0; d < x.dim(); ++d) {
        const bool isReduced = std::find(axes.begin(), axes.end(), static_cast<int>(d)) != axes.end();
        if (!isReduced)
            outShape.push_back(x.shape()[static_cast<size_t>(d)]);
        else if (keepDim)
            outShape.push_back(1);
    }
    Tensor out = empty(outShape);
    if (op == ReduceOp::Sum)
        runReduce(*this, x, axes, out, SumOp{});
    else
        runReduce(*this, x, axes, out, MaxOp{});
    return out;
}

}  // namespace raven
