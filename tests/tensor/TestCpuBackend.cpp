// The CPU backend's kernels against plain host loops (in double), on strided and broadcast views,
// and its determinism: identical bits run after run, for any thread count and any memory layout of
// the same logical tensor.
#include <QtTest>

#include <cmath>
#include <cstring>

#include "cpu/CpuBackend.h"
#include "tensor/Random.h"
#include "tensor/TensorOps.h"

using namespace raven;

namespace {
bool bitIdentical(const Tensor& a, const Tensor& b) {
    const auto va = a.toVector(), vb = b.toVector();
    return va.size() == vb.size() && std::memcmp(va.data(), vb.data(), va.size() * sizeof(float)) == 0;
}

double maxRelativeError(const std::vector<float>& got, const std::vector<double>& want) {
    double scale = 1e-30, err = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        scale = std::max(scale, std::fabs(want[i]));
        err = std::max(err, std::fabs(static_cast<double>(got[i]) - want[i]));
    }
    return got.size() == want.size() ? err / scale : 1e300;
}

// Naive batched matmul over contiguous host copies: a [B, M, K], b [B, K, N].
std::vector<double> naiveMatmul(const std::vector<float>& a, const std::vector<float>& b, int64_t batch, int64_t m,
                                int64_t k, int64_t n) {
    std::vector<double> c(static_cast<size_t>(batch * m * n), 0.0);
    for (int64_t p = 0; p < batch; ++p)
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
                double s = 0;
                for (int64_t q = 0; q < k; ++q) {
                    s += static_cast<double>(a[static_cast<size_t>((p * m + i) * k + q)]) *
                         b[static_cast<size_t>((p * k + q) * n + j)];
                }
                c[static_cast<size_t>((p * m + i) * n + j)] = s;
            }
    return c;
}

// Runs f with the CPU backend set to `threads`, restoring the previous count.
template <class F>
Tensor withThreads(int threads, F f) {
    CpuBackend& cpu = cpuBackendInstance();
    const int before = cpu.threadCount();
    cpu.setThreadCount(threads);
    Tensor out = f();
    cpu.setThreadCount(before);
    return out;
}
}  // namespace

class TestCpuBackend : public QObject {
    Q_OBJECT

private slots:
    void elementwiseOnStridedAndBroadcastViews();
    void unaryFunctions();
    void reductionsMatchNaiveSums();
    void reductionsDependOnlyOnTheLogicalShape();
    void matmulMatchesNaiveOnEveryLayout();
    void linearAddsBias();
    void softmaxIsStableForLargeLogits();
    void resultsDoNotDependOnThreadCount();
    void threadPoolRethrowsAndCoversRange();
};

void TestCpuBackend::elementwiseOnStridedAndBroadcastViews() {
    Generator gen(1);
    const Tensor a = randn({5, 7}, gen), b = randn({7, 5}, gen), row = randn({1, 7}, gen);
    const auto va = a.toVector(), vb = b.toVector(), vr = row.toVector();
    const std::vector<float> sum = add(a, b.transpose(0, 1)).toVector();
    const std::vector<float> prod = mul(a, row).toVector();
    const std::vector<float> quot = div(row.expand({5, 7}), a.transpose(0, 1).transpose(0, 1)).toVector();
    for (size_t i = 0; i < 5; ++i)
        for (size_t j = 0; j < 7; ++j) {
            QCOMPARE(sum[i * 7 + j], va[i * 7 + j] + vb[j * 5 + i]);
            QCOMPARE(prod[i * 7 + j], va[i * 7 + j] * vr[j]);
            QCOMPARE(quot[i * 7 + j], vr[j] / va[i * 7 + j]);
        }
    const std::vector<float> big = add(ones({300, 500}), full({500}, 2.0f)).toVector();  // crosses chunks
    QCOMPARE(big, std::vector<float>(150000, 3.0f));
    const auto mx = maximum(fromVector({3}, {1, -2, 3}), fromVector({1}, {0})).toVector();
    QCOMPARE(mx, (std::vector<float>{1, 0, 3}));
}

void TestCpuBackend::unaryFunctions() {
    const std::vector<float> xs = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f, 30.0f, -30.0f};
    const Tensor x = fromVector({7}, xs);
    const auto sig = sigmoid(x).toVector(), ge = gelu(x).toVector(), gt = gelu(x, GeluApproximation::Tanh).toVector();
    const auto re = relu(x).toVector(), th = tanh(x).toVector(), p = powScalar(abs(x), 1.5f).toVector();
    for (size_t i = 0; i < xs.size(); ++i) {
        const double v = xs[i];
        QVERIFY(std::fabs(sig[i] - 1.0 / (1.0 + std::exp(-v))) < 1e-6);
        QVERIFY(std::fabs(ge[i] - 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)))) < 1e-5);
        const double inner = std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v);
        QVERIFY(std::fabs(gt[i] - 0.5 * v * (1.0 + std::tanh(inner))) < 1e-5);
        QCOMPARE(re[i], xs[i] > 0 ? xs[i] : 0.0f);
        QVERIFY(std::fabs(th[i] - std::tanh(v)) < 1e-6);
        QVERIFY(std::fabs(p[i] - std::pow(std::fabs(v), 1.5)) < 1e-4 * std::max(1.0, std::pow(std::fabs(v), 1.5)));
    }
    QVERIFY(std::isfinite(sig[5]) && std::isfinite(sig[6]));
}

void TestCpuBackend::reductionsMatchNaiveSums() {
    Generator gen(2);
    const Shape shape{3, 70001, 2};  // more than one block of 65536 along the reduced axis
    const Tensor x = randn(shape, gen);
    const auto v = x.toVector();
    // sum over axis 1 ("outer" layout: C = 2 trailing elements)
    std::vector<double> want(6, 0.0);
    for (size_t i = 0; i < 3; ++i)
        for (size_t r = 0; r < 70001; ++r)
            for (size_t c = 0; c < 2; ++c) want[i * 2 + c] += v[(i * 70001 + r) * 2 + c];
    QVERIFY(maxRelativeError(sum(x, {1}).toVector(), want) < 1e-5);
    // sum of everything (one output: blocks in parallel)
    double all = 0;
    for (float f : v) all += f;
    QVERIFY(std::fabs(sum(x).item() - all) < 1e-3 * std::max(1.0, std::fabs(all)) + 1e-2);
    // max over axes {0, 2} (the "inner" layout after a copy), keepDim
    const Tensor m = max(x, {0, 2}, true);
    QCOMPARE(m.shape(), (Shape{1, 70001, 1}));
    const auto mv = m.toVector();
    for (size_t r = 0; r < 70001; r += 997) {
        float want2 = -INFINITY;
        for (size_t i = 0; i < 3; ++i)
            for (size_t c = 0; c < 2; ++c) want2 = std::max(want2, v[(i * 70001 + r) * 2 + c]);
        QCOMPARE(mv[r], want2);
    }
    QCOMPARE(mean(fromVector({2, 2}, {1, 2, 3, 6}), {0}).toVector(), (std::vector<float>{2, 4}));
    QCOMPARE(sum(zeros({0, 3}), {0}).toVector(), std::vector<float>(3, 0.0f));
}

void TestCpuBackend::reductionsDependOnlyOnTheLogicalShape() {
    // The same logical [A, R] tensor laid out row-major and column-major, summed over R: the "inner"
    // and "outer" loop nests must produce the same bits.
    Generator gen(3);
    const Tensor rowMajor = randn({37, 70000}, gen);
    const Tensor colMajor = rowMajor.transpose(0, 1).contiguous().transpose(0, 1);
    QVERIFY(!colMajor.isContiguous());
    QVERIFY(bitIdentical(sum(rowMajor, {1}), sum(colMajor, {1})));
    QVERIFY(bitIdentical(sum(rowMajor, {1}), sum(rowMajor.transpose(0, 1).contiguous(), {0})));
    const Tensor t = randn({1000, 19}, gen);  // reduce axis 0: "outer" vs its transpose's "inner"
    QVERIFY(bitIdentical(sum(t, {0}), sum(t.transpose(0, 1).contiguous(), {1})));
}

void TestCpuBackend::matmulMatchesNaiveOnEveryLayout() {
    Generator gen(4);
    for (const auto& [m, k, n] : {std::tuple{1, 1, 1}, {3, 5, 4}, {67, 33, 65}, {130, 7, 1}, {1, 300, 9}}) {
        const Tensor a = randn({m, k}, gen), b = randn({k, n}, gen);
        const auto want = naiveMatmul(a.toVector(), b.toVector(), 1, m, k, n);
        // Row-major, transposed (column-major) and strided operands all read in place or copied.
        const Tensor aT = a.transpose(0, 1).contiguous().transpose(0, 1);
        const Tensor bT = b.transpose(0, 1).contiguous().transpose(0, 1);
        const Tensor bWide = concat({b, b}, 1).narrow(1, 0, n);  // row stride 2n
        for (const auto& [x, y] : {std::pair{a, b}, {aT, b}, {a, bT}, {aT, bT}, {a, bWide}}) {
            QVERIFY2(maxRelativeError(matmul(x, y).toVector(), want) < 1e-5,
                     qPrintable(QString("m=%1 k=%2 n=%3").arg(m).arg(k).arg(n)));
        }
    }
    // batched with broadcast batch dimensions: [2,1,3,4] x [3,4,5] -> [2,3,3,5]
    const Tensor a = randn({2, 1, 3, 4}, gen), b = randn({3, 4, 5}, gen);
    const Tensor c = matmul(a, b);
    QCOMPARE(c.shape(), (Shape{2, 3, 3, 5}));
    const auto want = naiveMatmul(a.expand({2, 3, 3, 4}).toVector(), b.expand({2, 3, 4, 5}).toVector(), 6, 3, 4, 5);
    QVERIFY(maxRelativeError(c.toVector(), want) < 1e-5);
    QCOMPARE(matmul(ones({2, 0}), ones({0, 3})).toVector(), std::vector<float>(6, 0.0f));
}

void TestCpuBackend::linearAddsBias() {
    Generator gen(5);
    const Tensor x = randn({2, 3, 6}, gen), w = randn({4, 6}, gen), b = randn({4}, gen);
    const Tensor y = linear(x, w, b);
    QCOMPARE(y.shape(), (Shape{2, 3, 4}));
    const std::vector<float> want = add(matmul(x, w.transpose(0, 1)), b).toVector();
    QVERIFY(maxRelativeError(y.toVector(), std::vector<double>(want.begin(), want.end())) < 1e-6);
}

void TestCpuBackend::softmaxIsStableForLargeLogits() {
    const Tensor x = fromVector({2, 3}, {1000.0f, 1001.0f, 1002.0f, -1000.0f, -1000.0f, -1000.0f});
    const auto s = softmax(x).toVector();
    const double e1 = std::exp(-1.0), e2 = std::exp(-2.0), z = 1 + e1 + e2;
    QVERIFY(std::fabs(s[2] - 1 / z) < 1e-6 && std::fabs(s[0] - e2 / z) < 1e-6);
    QVERIFY(std::fabs(s[4] - 1.0 / 3) < 1e-6);
    const auto ls = logSoftmax(x).toVector();
    QVERIFY(std::fabs(ls[2] + std::log(z)) < 1e-5);
    const auto ce = crossEntropyPerSample(x, fromVector({2}, {2, 0})).toVector();
    QVERIFY(std::fabs(ce[0] - std::log(z)) < 1e-5 && std::fabs(ce[1] - std::log(3.0)) < 1e-5);
    const auto col = softmax(x, 0).toVector();  // along axis 0
    QVERIFY(std::fabs(col[0] - 1.0) < 1e-6 && col[3] < 1e-30f);
}

void TestCpuBackend::resultsDoNotDependOnThreadCount() {
    Generator gen(6);
    const Tensor a = randn({300, 200}, gen), b = randn({200, 260}, gen), big = randn({3, 100000}, gen);
    auto run = [&] {
        return concat({matmul(a, b).flatten(), sum(big).reshape({1}), sum(big, {0}), sum(a, {1}),
                       softmax(big, 0).flatten(), gelu(big).flatten()},
                      0);
    };
    const Tensor one = withThreads(1, run), three = withThreads(3, run), again = withThreads(3, run);
    QVERIFY(bitIdentical(one, three));
    QVERIFY(bitIdentical(three, again));
}

void TestCpuBackend::threadPoolRethrowsAndCoversRange() {
    ThreadPool pool(4);
    std::vector<int> hits(10000, 0);
    pool.parallelFor(10000, 7, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) ++hits[static_cast<size_t>(i)];
    });
    QCOMPARE(hits, std::vector<int>(10000, 1));
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, pool.parallelFor(1000, 1, [](int64_t b, int64_t) {
        if (b > 500) throw std::runtime_error("chunk failed");
    }));
    // Invalid targets are raven::Errors from inside the kernel's threads.
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, crossEntropyPerSample(zeros({4000, 3}), full({4000}, 1.5f)));
}

QTEST_APPLESS_MAIN(TestCpuBackend)
#include "TestCpuBackend.moc"
