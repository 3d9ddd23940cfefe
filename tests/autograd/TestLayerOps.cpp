// The layer ops of autograd/LayerOps.h through the graph: finite differences of every case in
// LayerOpCases.h, dropout's mask and determinism, batch norm's running statistics, gradients asked for
// only where needed, independence from the thread count, and the raven::Error of each bad shape.
// (The same cases are compared with PyTorch in TestTorchReference.cpp.)
#include <QtTest>

#include <cmath>

#include "autograd/LayerOpCases.h"
#include "autograd/LayerOps.h"
#include "base/Error.h"
#include "common/GradCheck.h"
#include "cpu/CpuBackend.h"
#include "cpu/kernels/Dropout.h"

using namespace raven;

namespace {
bool containsAll(const std::string& text, std::initializer_list<const char*> parts) {
    for (const char* p : parts)
        if (text.find(p) == std::string::npos) return false;
    return true;
}
}  // namespace

class TestLayerOps : public QObject {
    Q_OBJECT

private slots:
    void finiteDifferencesOfEveryLayerOp_data();
    void finiteDifferencesOfEveryLayerOp();
    void dropoutAppliesTheCounterBasedMask();
    void dropoutIsDeterministicAndComposable();
    void dropoutGradientByFiniteDifferences();
    void dropoutOutsideTrainingIsIdentity();
    void batchNormUpdatesRunningStatistics();
    void batchNormEvaluationUsesRunningStatistics();
    void frozenInputsGetNoGradientAndChangeNothing();
    void resultsDoNotDependOnThreadCount();
    void badShapesAreRavenErrors();
    void badIndicesAreRavenErrors();
    void embeddingGradientCountsRowsButThePaddingRow();
};

void TestLayerOps::finiteDifferencesOfEveryLayerOp_data() {
    QTest::addColumn<int>("index");
    const auto cases = test::layerOpCases();
    for (size_t i = 0; i < cases.size(); ++i)
        if (cases[i].finiteDifferences) QTest::newRow(cases[i].name.c_str()) << static_cast<int>(i);
}

void TestLayerOps::finiteDifferencesOfEveryLayerOp() {
    QFETCH(int, index);
    const test::OpCase c = test::layerOpCases()[static_cast<size_t>(index)];
    Generator gen(500 + static_cast<uint64_t>(index));
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < c.shapes.size(); ++i)
        inputs.push_back(test::drawInput(c.shapes[i], i < c.kinds.size() ? c.kinds[i] : test::InputKind::Any, gen));
    const auto result = test::checkGradients(c.f, inputs);
    QVERIFY2(result.ok, result.report.c_str());
}

void TestLayerOps::dropoutAppliesTheCounterBasedMask() {
    constexpr float p = 0.3f;
    constexpr uint64_t seed = 99, offset = 12345;
    Generator gen(1);
    const Tensor x = uniform({40, 250}, 0.5f, 1.5f, gen);
    const std::vector<float> in = x.toVector(), out = dropout(Variable(x), p, true, seed, offset).toVector();
    int64_t kept = 0;
    for (size_t i = 0; i < in.size(); ++i) {
        const bool keeps = cpu::kernels::dropout_keeps(seed, offset + i, p);
        kept += keeps ? 1 : 0;
        QCOMPARE(out[i], keeps ? in[i] * (1.0f / (1.0f - p)) : 0.0f);
    }
    // 10000 Bernoulli(0.7) draws: the standard deviation of the kept fraction is 0.0046.
    const double fraction = static_cast<double>(kept) / static_cast<double>(in.size());
    QVERIFY2(std::fabs(fraction - 0.7) < 0.02, qPrintable(QString("kept fraction %1").arg(fraction)));

    QCOMPARE(dropout(Variable(x), 1.0f, true, seed, offset).toVector(), std::vector<float>(in.size(), 0.0f));
}

void TestLayerOps::dropoutIsDeterministicAndComposable() {
    Generator gen(2);
    const Tensor x = randn({6, 7}, gen);
    const auto once = dropout(Variable(x), 0.5f, true, 7, 100).toVector();
    QCOMPARE(dropout(Variable(x), 0.5f, true, 7, 100).toVector(), once);
    QVERIFY(dropout(Variable(x), 0.5f, true, 7, 101).toVector() != once);
    QVERIFY(dropout(Variable(x), 0.5f, true, 8, 100).toVector() != once);
    // Two halves with offsets advanced by the first half's size give the whole tensor's mask.
    auto first = dropout(Variable(x.narrow(0, 0, 2)), 0.5f, true, 7, 100).toVector();
    const auto second = dropout(Variable(x.narrow(0, 2, 4)), 0.5f, true, 7, 100 + 14).toVector();
    first.insert(first.end(), second.begin(), second.end());
    QCOMPARE(first, once);
    // The backward applies the same mask to the gradient.
    Variable v(x, true);
    dropout(v, 0.5f, true, 7, 100).backward(ones({6, 7}));
    const auto grad = v.grad().toVector();
    const auto xs = x.toVector();
    for (size_t i = 0; i < grad.size(); ++i) QCOMPARE(grad[i], once[i] == 0.0f ? 0.0f : 2.0f);
    QVERIFY(xs.size() == grad.size());
}

void TestLayerOps::dropoutGradientByFiniteDifferences() {
    Generator gen(3);
    const auto result = test::checkGradients(
        [](const std::vector<Variable>& v) { return dropout(v[0], 0.4f, true, 2024, 5); }, {randn({3, 5, 2}, gen)});
    QVERIFY2(result.ok, result.report.c_str());
}

void TestLayerOps::dropoutOutsideTrainingIsIdentity() {
    Generator gen(4);
    Variable x(randn({4, 3}, gen), true);
    QVERIFY(dropout(x, 0.5f, false, 1, 0).tensor().sharesStorageWith(x.tensor()));
    QVERIFY(dropout(x, 0.0f, true, 1, 0).tensor().sharesStorageWith(x.tensor()));
}

void TestLayerOps::batchNormUpdatesRunningStatistics() {
    constexpr int64_t n = 3, c = 2, hw = 4;
    constexpr float momentum = 0.25f;
    Generator gen(5);
    const Tensor x = randn({n, c, 2, 2}, gen);
    Tensor runningMean = fromVector({c}, {0.5f, -1.0f}), runningVar = fromVector({c}, {2.0f, 0.25f});
    batchNorm(Variable(x, true), Variable(), Variable(), runningMean, runningVar, true, momentum);
    const std::vector<float> xs = x.toVector(), rm = runningMean.toVector(), rv = runningVar.toVector();
    const float oldMean[] = {0.5f, -1.0f}, oldVar[] = {2.0f, 0.25f};
    for (int64_t ch = 0; ch < c; ++ch) {
        double sum = 0.0, sq = 0.0;
        for (int64_t s = 0; s < n; ++s)
            for (int64_t i = 0; i < hw; ++i) sum += xs[static_cast<size_t>((s * c + ch) * hw + i)];
        const double mean = sum / (n * hw);
        for (int64_t s = 0; s < n; ++s)
            for (int64_t i = 0; i < hw; ++i) sq += std::pow(xs[static_cast<size_t>((s * c + ch) * hw + i)] - mean, 2);
        const double unbiased = sq / (n * hw - 1);
        QVERIFY(std::fabs(rm[ch] - ((1 - momentum) * oldMean[ch] + momentum * mean)) < 1e-5);
        QVERIFY(std::fabs(rv[ch] - ((1 - momentum) * oldVar[ch] + momentum * unbiased)) < 1e-5);
    }
    // Without running statistics, training normalizes all the same and updates nothing.
    const auto y = batchNorm(Variable(x), Variable(), Variable(), Tensor(), Tensor(), true).toVector();
    double total = 0.0;
    for (float v : y) total += v;
    QVERIFY(std::fabs(total) < 1e-4);
}

void TestLayerOps::batchNormEvaluationUsesRunningStatistics() {
    Generator gen(6);
    const Tensor x = randn({2, 3}, gen);
    const Tensor rm = fromVector({3}, {0.1f, 0.2f, -0.3f}), rv = fromVector({3}, {1.0f, 4.0f, 0.5f});
    const Tensor w = fromVector({3}, {2.0f, 1.0f, -1.0f}), b = fromVector({3}, {0.0f, 0.5f, 1.0f});
    const auto y = batchNorm(Variable(x), Variable(w), Variable(b), rm, rv, false, 0.1f, 1e-5f).toVector();
    const auto xs = x.toVector(), rms = rm.toVector(), rvs = rv.toVector(), ws = w.toVector(), bs = b.toVector();
    for (size_t i = 0; i < xs.size(); ++i) {
        const size_t ch = i % 3;
        const double expected = (xs[i] - rms[ch]) / std::sqrt(rvs[ch] + 1e-5) * ws[ch] + bs[ch];
        QVERIFY(std::fabs(y[i] - expected) < 1e-5);
    }
    QCOMPARE(rm.toVector(), rms);  // evaluation leaves them alone
}

void TestLayerOps::frozenInputsGetNoGradientAndChangeNothing() {
    Generator gen(7);
    const Tensor x = randn({2, 2, 4, 4}, gen), w = randn({3, 2, 3, 3}, gen), upstream = randn({2, 3, 2, 2}, gen);
    Variable x1(x, true), w1(w, true);
    conv2d(x1, w1).backward(upstream);
    // Frozen weight: x's gradient is unchanged (the op kept no x), the weight gets none.
    Variable x2(x, true), w2(w, false);
    conv2d(x2, w2).backward(upstream);
    QCOMPARE(x2.grad().toVector(), x1.grad().toVector());
    QVERIFY(!w2.hasGrad());
    // Constant input: only the weight's gradient.
    Variable x3(x, false), w3(w, true);
    conv2d(x3, w3).backward(upstream);
    QCOMPARE(w3.grad().toVector(), w1.grad().toVector());
    QVERIFY(!x3.hasGrad());
    // No gradient mode records nothing.
    NoGradGuard noGrad;
    QVERIFY(conv2d(x1, w1).isLeaf());
    QVERIFY(scaledDotProductAttention(Variable(x, true), Variable(x, true), Variable(x, true)).isLeaf());
}

void TestLayerOps::resultsDoNotDependOnThreadCount() {
    CpuBackend& cpu = cpuBackendInstance();
    const int before = cpu.threadCount();
    auto run = [](int threads) {
        cpuBackendInstance().setThreadCount(threads);
        Generator gen(8);
        Variable x(randn({5, 3, 9, 8}, gen), true), w(randn({4, 3, 3, 3}, gen), true), b(randn({4}, gen), true);
        Variable q(randn({2, 3, 17, 8}, gen), true), tab(randn({11, 8}, gen), true);
        const Tensor tokens = fromVector({3}, {4, 4, 10});
        Variable h = batchNorm(conv2d(x, w, b, {.padding = 1}), Variable(), Variable(), Tensor(), Tensor(), true);
        h = avgPool2d(maxPool2d(h, 2, 1), 2);
        Variable a = scaledDotProductAttention(q, q, layerNorm(q, {8}), true);
        Variable e = embedding(tokens, tab);
        (sum(h) + sum(mul(a, a)) + sum(mul(e, e))).backward();
        std::vector<std::vector<float>> out{h.toVector(), a.toVector()};
        for (const Variable* v : {&x, &w, &b, &q, &tab}) out.push_back(v->grad().toVector());
        return out;
    };
    const auto serial = run(1);
    const auto parallel = run(3);
    cpu.setThreadCount(before);
    QCOMPARE(parallel, serial);  // bit for bit
}

void TestLayerOps::badShapesAreRavenErrors() {
    const Variable img(ones({2, 3, 5, 5})), w(ones({4, 3, 3, 3}));
    try {
        conv2d(img, Variable(ones({4, 2, 3, 3})));
        QFAIL("conv2d with 3 input channels and a weight for 2 must throw");
    } catch (const Error& e) {
        QVERIFY2(containsAll(e.message(), {"conv2d", "[2,3,5,5]", "[4,2,3,3]"}), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, conv2d(Variable(ones({3, 5, 5})), w));                          // rank 3
    QVERIFY_THROWS_EXCEPTION(Error, conv2d(img, w, Variable(ones({3}))));                           // bias size
    QVERIFY_THROWS_EXCEPTION(Error, conv2d(img, Variable(ones({4, 3, 7, 3}))));                     // kernel too tall
    QVERIFY_THROWS_EXCEPTION(Error, conv2d(img, Variable(ones({4, 1, 3, 3})), {}, {.groups = 2}));  // 3 % 2
    QVERIFY_THROWS_EXCEPTION(Error, conv2d(img, w, {}, {.stride = 0}));
    QVERIFY_THROWS_EXCEPTION(Error, conv2d(img, w, {}, {.dilation = {3, 1}}));  // span 7 > 5
    QVERIFY_THROWS_EXCEPTION(Error, maxPool2d(img, 3, 1, 2));                   // padding > kernel / 2
    QVERIFY_THROWS_EXCEPTION(Error, maxPool2d(img, 6));                         // kernel > input
    QVERIFY_THROWS_EXCEPTION(Error, avgPool2d(Variable(ones({5, 5})), 2));      // rank 2
    try {
        layerNorm(Variable(ones({2, 3, 4})), {3});
        QFAIL("layerNorm over [3] of [2,3,4] must throw");
    } catch (const Error& e) {
        QVERIFY2(containsAll(e.message(), {"layerNorm", "[3]", "[2,3,4]"}), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, layerNorm(Variable(ones({2, 4})), {4}, Variable(ones({3}))));
    const Tensor rm = zeros({3}), rv = ones({3});
    QVERIFY_THROWS_EXCEPTION(Error,
                             batchNorm(Variable(ones({2, 3})), Variable(), Variable(), Tensor(), Tensor(), false));
    QVERIFY_THROWS_EXCEPTION(Error, batchNorm(Variable(ones({1, 3})), Variable(), Variable(), rm, rv, true));
    QVERIFY_THROWS_EXCEPTION(Error, batchNorm(Variable(ones({2, 4})), Variable(), Variable(), rm, rv, true));
    QVERIFY_THROWS_EXCEPTION(Error, batchNorm(Variable(ones({2, 3})), Variable(ones({2})), Variable(), rm, rv, true));
    QVERIFY_THROWS_EXCEPTION(Error, batchNorm(Variable(ones({3})), Variable(), Variable(), rm, rv, false));
    // Running statistics are written in place: a strided view is refused rather than silently copied.
    const Tensor strided = zeros({3, 2}).narrow(1, 0, 1).squeeze(1);
    QVERIFY(!strided.isContiguous());
    QVERIFY_THROWS_EXCEPTION(Error, batchNorm(Variable(ones({2, 3})), Variable(), Variable(), strided, rv, true));
    QVERIFY_THROWS_EXCEPTION(Error, embedding(fromVector({2}, {0, 1}), Variable(ones({4}))));
    QVERIFY_THROWS_EXCEPTION(Error, embedding(fromVector({2}, {0, 1}), Variable(ones({4, 2})), 4));
    QVERIFY_THROWS_EXCEPTION(Error, dropout(Variable(ones({3})), 1.5f, true, 0, 0));
    QVERIFY_THROWS_EXCEPTION(Error, dropout(Variable(ones({3})), -0.1f, false, 0, 0));
    const Variable q(ones({2, 3, 4})), k(ones({2, 5, 4})), v(ones({2, 5, 6}));
    try {
        scaledDotProductAttention(q, Variable(ones({2, 5, 3})), v);
        QFAIL("attention with feature sizes 4 and 3 must throw");
    } catch (const Error& e) {
        QVERIFY2(containsAll(e.message(), {"scaledDotProductAttention", "[2,3,4]", "[2,5,3]"}), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, scaledDotProductAttention(q, k, Variable(ones({2, 4, 6}))));     // Tk
    QVERIFY_THROWS_EXCEPTION(Error, scaledDotProductAttention(q, Variable(ones({3, 5, 4})), v));     // batch
    QVERIFY_THROWS_EXCEPTION(Error, scaledDotProductAttention(q, k, Variable(ones({1, 2, 5, 6}))));  // rank
    QVERIFY_THROWS_EXCEPTION(Error, scaledDotProductAttention(q, k, v, false, -1.0f));
}

void TestLayerOps::badIndicesAreRavenErrors() {
    const Variable table(ones({4, 3}), true);
    try {
        embedding(fromVector({3}, {0, 4, 1}), table);
        QFAIL("index 4 of a vocabulary of 4 must throw");
    } catch (const Error& e) {
        QVERIFY2(containsAll(e.message(), {"embedding", "4"}), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(Error, embedding(fromVector({2}, {-1, 0}), table));
    QVERIFY_THROWS_EXCEPTION(Error, embedding(fromVector({2}, {0.5f, 0}), table));
    QVERIFY_THROWS_EXCEPTION(Error, embedding(fromVector({1}, {NAN}), table));
    // Indices of any shape; the output appends the embedding dimension.
    QCOMPARE(embedding(zeros({2, 1, 3}), table).shape(), (Shape{2, 1, 3, 3}));
}

void TestLayerOps::embeddingGradientCountsRowsButThePaddingRow() {
    Variable table(zeros({4, 2}), true);
    sum(embedding(fromVector({2, 3}, {1, 3, 1, 0, 3, 1}), table, 3)).backward();
    QCOMPARE(table.grad().toVector(), (std::vector<float>{1, 1, 3, 3, 0, 0, 0, 0}));
}

QTEST_APPLESS_MAIN(TestLayerOps)
#include "TestLayerOps.moc"
