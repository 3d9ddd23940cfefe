// Every layer op of core/vulkan/layers, forward and backward, against the CPU kernels
// (core/cpu/kernels) on awkward shapes: sizes of 1, odd sizes not multiples of a tile, stride, padding,
// dilation, groups, causal masks, a sequence of 1. Fp32 results agree within a normalized MSE of 1e-7
// (the GPU sums in float and in another order than Eigen's GEMM or the CPU's double sums); ops with an
// exp (attention) within 1e-6. Gathers in the CPU's order (pool backward, embedding backward) and
// dropout must agree exactly. Also: dropout masks bit-identical to the CPU's Philox, two runs
// bit-identical, dispatches split across the device's group limit, and zero validation messages.
#include "base/Error.h"
#include "cpu/kernels/Kernels.h"
#include "vulkan/Device.h"
#include "vulkan/Instance.h"
#include "vulkan/VulkanTestSupport.h"
#include "vulkan/layers/DivisionMagic.h"
#include "vulkan/layers/HostRun.h"
#include "vulkan/layers/Layers.h"

#include <QTest>

#include <cmath>
#include <cstring>
#include <random>

using namespace raven;
using namespace raven::vulkan;
namespace kernels = raven::cpu::kernels;
namespace host = raven::vulkan::layers::host;

namespace {

std::vector<float> randomVector(std::size_t n, unsigned seed, float low = -1.0f, float high = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uniform(low, high);
    std::vector<float> v(n);
    for (float& x : v) x = uniform(rng);
    return v;
}

// sum (a - b)^2 / sum b^2 (or the plain squared error when b is all zero).
double nmse(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return INFINITY;
    double error = 0.0, norm = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = static_cast<double>(a[i]) - b[i];
        error += d * d;
        norm += static_cast<double>(b[i]) * b[i];
    }
    return norm > 0.0 ? error / norm : error;
}

bool bitIdentical(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

#define EXPECT_CLOSE(gpu, cpu, tolerance)                                                                    \
    do {                                                                                                     \
        const double error_ = nmse(gpu, cpu);                                                                \
        QVERIFY2(error_ <= (tolerance), qPrintable(QStringLiteral("%1: normalized MSE %2 (%3 vs %4 values)") \
                                                       .arg(#gpu)                                            \
                                                       .arg(error_)                                          \
                                                       .arg((gpu).size())                                    \
                                                       .arg((cpu).size())));                                 \
    } while (0)

constexpr double kFp32 = 1e-7;
constexpr double kExp = 1e-6;

// A convolution whose weight gradient is split over the batch (K = 8 * 24 * 24 = 4608; Conv2d.h).
const kernels::Conv2dShape kSplitConv{.batch = 8,
                                      .inChannels = 2,
                                      .height = 24,
                                      .width = 24,
                                      .outChannels = 5,
                                      .kernelH = 3,
                                      .kernelW = 3,
                                      .padH = 1,
                                      .padW = 1};

std::vector<float> asFloats(const std::vector<int64_t>& v) { return {v.begin(), v.end()}; }

}  // namespace

class LayersTest : public QObject {
    Q_OBJECT

    std::shared_ptr<Instance> instance_;
    std::size_t messagesBefore_ = 0;
    std::unique_ptr<Device> device_;

    std::unique_ptr<Device> openDevice(DeviceOptions options = {}) {
        options.pipelineCacheDir = std::filesystem::path();  // never the user's cache
        return std::make_unique<Device>(instance_, options);
    }

private slots:
    void initTestCase() {
        QString skip;
        instance_ = raven::test::openInstance(skip);
        if (!instance_) QSKIP(qPrintable(skip));
        device_ = openDevice();
    }
    RAVEN_VULKAN_VALIDATION_CHECKS
    void cleanupTestCase() {
        device_.reset();
        if (instance_)
            QVERIFY2(instance_->validationMessageCount() == 0,
                     qPrintable(raven::test::validationReport(*instance_, 0)));
    }

    void conv2dMatchesCpu_data() {
        QTest::addColumn<kernels::Conv2dShape>("shape");
        QTest::addColumn<bool>("withBias");
        QTest::newRow("all ones") << kernels::Conv2dShape{} << true;
        QTest::newRow("1x1 conv, odd sizes")
            << kernels::Conv2dShape{.batch = 3, .inChannels = 5, .height = 7, .width = 3, .outChannels = 6} << false;
        QTest::newRow("3x3 pad 1") << kernels::Conv2dShape{.batch = 2,
                                                           .inChannels = 3,
                                                           .height = 9,
                                                           .width = 11,
                                                           .outChannels = 4,
                                                           .kernelH = 3,
                                                           .kernelW = 3,
                                                           .padH = 1,
                                                           .padW = 1}
                                   << true;
        QTest::newRow("stride 2, dilation 2, uneven padding") << kernels::Conv2dShape{.batch = 2,
                                                                                      .inChannels = 2,
                                                                                      .height = 10,
                                                                                      .width = 13,
                                                                                      .outChannels = 3,
                                                                                      .kernelH = 3,
                                                                                      .kernelW = 2,
                                                                                      .strideH = 2,
                                                                                      .strideW = 3,
                                                                                      .padH = 2,
                                                                                      .padW = 1,
                                                                                      .dilationH = 2,
                                                                                      .dilationW = 1}
                                                              << true;
        QTest::newRow("groups 3") << kernels::Conv2dShape{.batch = 2,
                                                          .inChannels = 6,
                                                          .height = 6,
                                                          .width = 5,
                                                          .outChannels = 9,
                                                          .kernelH = 3,
                                                          .kernelW = 3,
                                                          .strideH = 2,
                                                          .padH = 1,
                                                          .padW = 1,
                                                          .groups = 3}
                                  << true;
        QTest::newRow("depthwise") << kernels::Conv2dShape{.batch = 1,
                                                           .inChannels = 4,
                                                           .height = 5,
                                                           .width = 5,
                                                           .outChannels = 4,
                                                           .kernelH = 3,
                                                           .kernelW = 3,
                                                           .padH = 1,
                                                           .padW = 1,
                                                           .groups = 4}
                                   << false;
        QTest::newRow("large tiles") << kernels::Conv2dShape{.batch = 2,
                                                             .inChannels = 7,
                                                             .height = 12,
                                                             .width = 12,
                                                             .outChannels = 67,
                                                             .kernelH = 3,
                                                             .kernelW = 3,
                                                             .padH = 1,
                                                             .padW = 1}
                                     << true;
        // The narrow tiles (LayerSupport.cpp): 20 and 24 channels against many positions (32 x 128), and
        // many channels against 16 and 25 positions (256 x 16, 128 x 32).
        QTest::newRow("channels 17-32") << kernels::Conv2dShape{.batch = 3,
                                                                .inChannels = 24,
                                                                .height = 9,
                                                                .width = 10,
                                                                .outChannels = 20,
                                                                .kernelH = 3,
                                                                .kernelW = 3,
                                                                .padH = 1,
                                                                .padW = 1}
                                        << true;
        QTest::newRow("few positions, many channels")
            << kernels::Conv2dShape{.batch = 1, .inChannels = 5, .height = 4, .width = 4, .outChannels = 70} << true;
        QTest::newRow("25 positions, 40 channels")
            << kernels::Conv2dShape{.batch = 1, .inChannels = 3, .height = 5, .width = 5, .outChannels = 40} << false;
        // K = batch * outH * outW = 4608 with a 5 x 18 weight gradient: four slices, the last shorter.
        QTest::newRow("weight gradient split over the batch") << kSplitConv << true;
        QTest::newRow("split with groups") << kernels::Conv2dShape{.batch = 6,
                                                                   .inChannels = 4,
                                                                   .height = 30,
                                                                   .width = 30,
                                                                   .outChannels = 6,
                                                                   .kernelH = 3,
                                                                   .kernelW = 3,
                                                                   .groups = 2}
                                           << false;
    }
    void conv2dMatchesCpu() {
        QFETCH(kernels::Conv2dShape, shape);
        QFETCH(bool, withBias);
        const auto s = shape;
        const std::size_t nx = s.batch * s.inChannels * s.height * s.width;
        const std::size_t nw = s.outChannels * (s.inChannels / s.groups) * s.kernelH * s.kernelW;
        const std::size_t ny = s.batch * s.outChannels * s.outH() * s.outW();
        const auto x = randomVector(nx, 1), w = randomVector(nw, 2), dy = randomVector(ny, 4);
        const auto b = withBias ? randomVector(s.outChannels, 3) : std::vector<float>{};

        std::vector<float> y(ny), dx(nx), dw(nw), db(s.outChannels);
        kernels::conv2d_forward(s, x.data(), w.data(), withBias ? b.data() : nullptr, y.data());
        kernels::conv2d_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data());

        EXPECT_CLOSE(host::conv2dForward(*device_, s, x, w, b), y, kFp32);
        const auto grads = host::conv2dBackward(*device_, s, x, w, dy);
        EXPECT_CLOSE(grads.input, dx, kFp32);
        EXPECT_CLOSE(grads.weight, dw, kFp32);
        EXPECT_CLOSE(grads.bias, db, kFp32);
        // Only what is wanted is computed.
        const auto onlyWeight = host::conv2dBackward(*device_, s, x, w, dy, {false, true, false});
        QVERIFY(onlyWeight.input.empty() && onlyWeight.bias.empty());
        QVERIFY(bitIdentical(onlyWeight.weight, grads.weight));
    }

    void maxPool2dMatchesCpu_data() {
        QTest::addColumn<kernels::Pool2dShape>("shape");
        QTest::addColumn<bool>("withNan");
        QTest::newRow("1x1") << kernels::Pool2dShape{} << false;
        QTest::newRow("2x2 stride 2, odd input") << kernels::Pool2dShape{.batch = 2,
                                                                         .channels = 3,
                                                                         .height = 7,
                                                                         .width = 5,
                                                                         .kernelH = 2,
                                                                         .kernelW = 2,
                                                                         .strideH = 2,
                                                                         .strideW = 2}
                                                 << false;
        QTest::newRow("3x3 stride 1 pad 1, overlapping") << kernels::Pool2dShape{.batch = 1,
                                                                                 .channels = 2,
                                                                                 .height = 6,
                                                                                 .width = 7,
                                                                                 .kernelH = 3,
                                                                                 .kernelW = 3,
                                                                                 .strideH = 1,
                                                                                 .strideW = 1,
                                                                                 .padH = 1,
                                                                                 .padW = 1}
                                                         << true;
        QTest::newRow("3x2 stride (2,1) pad (1,0)") << kernels::Pool2dShape{.batch = 3,
                                                                            .channels = 1,
                                                                            .height = 5,
                                                                            .width = 4,
                                                                            .kernelH = 3,
                                                                            .kernelW = 2,
                                                                            .strideH = 2,
                                                                            .strideW = 1,
                                                                            .padH = 1}
                                                    << false;
    }
    void maxPool2dMatchesCpu() {
        QFETCH(kernels::Pool2dShape, shape);
        QFETCH(bool, withNan);
        const auto s = shape;
        const std::size_t nx = s.batch * s.channels * s.height * s.width,
                          ny = s.batch * s.channels * s.outH() * s.outW();
        // Few distinct values, so that ties (the first maximum wins) happen.
        auto x = randomVector(nx, 5);
        for (float& v : x) v = std::round(v * 4.0f) / 4.0f;
        if (withNan) x[nx / 2] = NAN;
        const auto dy = randomVector(ny, 6);
        std::vector<float> y(ny), dx(nx);
        std::vector<int64_t> argmax(ny);
        kernels::max_pool2d_forward(s, x.data(), y.data(), argmax.data());
        kernels::max_pool2d_backward(s, argmax.data(), dy.data(), dx.data());

        const auto gpu = host::maxPool2dForward(*device_, s, x);
        QVERIFY(bitIdentical(gpu.y, y));
        QVERIFY(bitIdentical(gpu.argmax, asFloats(argmax)));
        QVERIFY(bitIdentical(host::maxPool2dBackward(*device_, s, gpu.argmax, dy), dx));
    }

    void avgPool2dMatchesCpu_data() {
        QTest::addColumn<kernels::Pool2dShape>("shape");
        QTest::addColumn<bool>("countIncludePad");
        const kernels::Pool2dShape padded{.batch = 2,
                                          .channels = 3,
                                          .height = 7,
                                          .width = 6,
                                          .kernelH = 3,
                                          .kernelW = 3,
                                          .strideH = 2,
                                          .strideW = 2,
                                          .padH = 1,
                                          .padW = 1};
        QTest::newRow("1x1") << kernels::Pool2dShape{} << true;
        QTest::newRow("padded, count pad") << padded << true;
        QTest::newRow("padded, count inputs only") << padded << false;
        QTest::newRow("2x3 stride 1")
            << kernels::Pool2dShape{.batch = 1, .channels = 2, .height = 5, .width = 6, .kernelH = 2, .kernelW = 3}
            << true;
    }
    void avgPool2dMatchesCpu() {
        QFETCH(kernels::Pool2dShape, shape);
        QFETCH(bool, countIncludePad);
        const auto s = shape;
        const std::size_t nx = s.batch * s.channels * s.height * s.width,
                          ny = s.batch * s.channels * s.outH() * s.outW();
        const auto x = randomVector(nx, 7), dy = randomVector(ny, 8);
        std::vector<float> y(ny), dx(nx);
        kernels::avg_pool2d_forward(s, x.data(), y.data(), countIncludePad);
        kernels::avg_pool2d_backward(s, dy.data(), dx.data(), countIncludePad);
        EXPECT_CLOSE(host::avgPool2dForward(*device_, s, x, countIncludePad), y, kFp32);
        EXPECT_CLOSE(host::avgPool2dBackward(*device_, s, dy, countIncludePad), dx, kFp32);
    }

    void layerNormMatchesCpu_data() {
        QTest::addColumn<kernels::LayerNormShape>("shape");
        QTest::addColumn<bool>("affine");
        QTest::newRow("one feature") << kernels::LayerNormShape{.rows = 3, .features = 1} << true;
        QTest::newRow("one row, no affine") << kernels::LayerNormShape{.rows = 1, .features = 37} << false;
        QTest::newRow("odd") << kernels::LayerNormShape{.rows = 13, .features = 300, .eps = 1e-3f} << true;
    }
    void layerNormMatchesCpu() {
        QFETCH(kernels::LayerNormShape, shape);
        QFETCH(bool, affine);
        const auto s = shape;
        const std::size_t n = s.rows * s.features;
        const auto x = randomVector(n, 9, -2.0f, 3.0f), dy = randomVector(n, 10);
        const auto w = affine ? randomVector(s.features, 11) : std::vector<float>{};
        const auto b = affine ? randomVector(s.features, 12) : std::vector<float>{};
        const float* wp = affine ? w.data() : nullptr;
        std::vector<float> y(n), mean(s.rows), rstd(s.rows), dx(n), dw(s.features), db(s.features);
        kernels::layer_norm_forward(s, x.data(), wp, affine ? b.data() : nullptr, y.data(), mean.data(), rstd.data());
        kernels::layer_norm_backward(s, x.data(), wp, mean.data(), rstd.data(), dy.data(), dx.data(), dw.data(),
                                     db.data());
        const auto out = host::layerNormForward(*device_, s, x, w, b);
        EXPECT_CLOSE(out.y, y, kFp32);
        EXPECT_CLOSE(out.mean, mean, kFp32);
        EXPECT_CLOSE(out.invstd, rstd, kFp32);
        const auto grads = host::layerNormBackward(*device_, s, x, w, mean, rstd, dy);
        EXPECT_CLOSE(grads.input, dx, kFp32);
        EXPECT_CLOSE(grads.weight, dw, kFp32);
        EXPECT_CLOSE(grads.bias, db, kFp32);
        const auto onlyBias = host::layerNormBackward(*device_, s, x, w, mean, rstd, dy, {false, false, true});
        QVERIFY(onlyBias.input.empty() && onlyBias.weight.empty());
        QVERIFY(bitIdentical(onlyBias.bias, grads.bias));
    }

    void batchNormMatchesCpu_data() {
        QTest::addColumn<kernels::BatchNormShape>("shape");
        QTest::addColumn<bool>("training");
        QTest::addColumn<bool>("affine");
        QTest::newRow("2-D, training") << kernels::BatchNormShape{.batch = 5, .channels = 3} << true << true;
        QTest::newRow("4-D odd, training")
            << kernels::BatchNormShape{.batch = 3, .channels = 4, .spatial = 35, .momentum = 0.3f} << true << false;
        QTest::newRow("batch 1, training")
            << kernels::BatchNormShape{.batch = 1, .channels = 2, .spatial = 9} << true << true;
        QTest::newRow("4-D, evaluation") << kernels::BatchNormShape{.batch = 2, .channels = 5, .spatial = 6} << false
                                         << true;
    }
    void batchNormMatchesCpu() {
        QFETCH(kernels::BatchNormShape, shape);
        QFETCH(bool, training);
        QFETCH(bool, affine);
        const auto s = shape;
        const std::size_t n = s.batch * s.channels * s.spatial, c = s.channels;
        const auto x = randomVector(n, 13, -1.0f, 2.0f), dy = randomVector(n, 14);
        const auto w = affine ? randomVector(c, 15) : std::vector<float>{};
        const auto b = affine ? randomVector(c, 16) : std::vector<float>{};
        std::vector<float> runningMean = randomVector(c, 17), runningVar = randomVector(c, 18, 0.5f, 2.0f);
        std::vector<float> gpuMean = runningMean, gpuVar = runningVar;
        std::vector<float> y(n), mean(c), invstd(c), dx(n), dw(c), db(c);
        kernels::batch_norm_forward(s, training, x.data(), affine ? w.data() : nullptr, affine ? b.data() : nullptr,
                                    runningMean.data(), runningVar.data(), y.data(), mean.data(), invstd.data());
        kernels::batch_norm_backward(s, training, x.data(), affine ? w.data() : nullptr, mean.data(), invstd.data(),
                                     dy.data(), dx.data(), dw.data(), db.data());
        const auto out = host::batchNormForward(*device_, s, training, x, w, b, gpuMean, gpuVar);
        EXPECT_CLOSE(out.y, y, kFp32);
        EXPECT_CLOSE(out.mean, mean, kFp32);
        EXPECT_CLOSE(out.invstd, invstd, kFp32);
        EXPECT_CLOSE(gpuMean, runningMean, kFp32);
        EXPECT_CLOSE(gpuVar, runningVar, kFp32);
        const auto grads = host::batchNormBackward(*device_, s, training, x, w, mean, invstd, dy);
        EXPECT_CLOSE(grads.input, dx, kFp32);
        EXPECT_CLOSE(grads.weight, dw, kFp32);
        EXPECT_CLOSE(grads.bias, db, kFp32);
    }

    void embeddingMatchesCpu_data() {
        QTest::addColumn<kernels::EmbeddingShape>("shape");
        QTest::newRow("one entry") << kernels::EmbeddingShape{};
        QTest::newRow("repeats") << kernels::EmbeddingShape{.vocabulary = 11, .dim = 70, .count = 300};
        QTest::newRow("padding index") << kernels::EmbeddingShape{
            .vocabulary = 5, .dim = 3, .count = 17, .paddingIndex = 2};
    }
    void embeddingMatchesCpu() {
        QFETCH(kernels::EmbeddingShape, shape);
        const auto s = shape;
        std::mt19937 rng(19);
        std::vector<int64_t> indices(s.count);
        for (auto& i : indices) i = static_cast<int64_t>(rng() % static_cast<unsigned>(s.vocabulary));
        const auto weight = randomVector(s.vocabulary * s.dim, 20), dy = randomVector(s.count * s.dim, 21);
        std::vector<float> y(s.count * s.dim), dw(s.vocabulary * s.dim);
        kernels::embedding_forward(s, indices.data(), weight.data(), y.data());
        kernels::embedding_backward(s, indices.data(), dy.data(), dw.data());
        QVERIFY(bitIdentical(host::embeddingForward(*device_, s, asFloats(indices), weight), y));
        // Sums in position order, as the CPU: equal to the last bit.
        QVERIFY(bitIdentical(host::embeddingBackward(*device_, s, asFloats(indices), dy), dw));
    }

    void embeddingRejectsBadIndices() {
        const kernels::EmbeddingShape s{.vocabulary = 4, .dim = 2, .count = 2};
        const std::vector<float> weight(8, 1.0f);
        QVERIFY_THROWS_EXCEPTION(raven::Error, host::embeddingForward(*device_, s, std::vector<float>{1, 4}, weight));
        QVERIFY_THROWS_EXCEPTION(raven::Error,
                                 host::embeddingForward(*device_, s, std::vector<float>{0.5f, 1}, weight));
        // On the device alone (no host check), a bad index gives a NaN row rather than a stray read.
        Buffer idx = device_->createBuffer(2 * sizeof(float)), w = device_->createBuffer(8 * sizeof(float)),
               y = device_->createBuffer(4 * sizeof(float));
        Recorder rec(*device_);
        rec.upload(idx.range(), std::vector<float>{-1.0f, 3.0f});
        rec.upload(w.range(), weight);
        layers::embeddingForward(*device_, rec, s, idx.range(), w.range(), y.range());
        std::vector<float> out(4);
        rec.download(y.range(), std::span<float>(out));
        rec.submit();
        QVERIFY(std::isnan(out[0]) && std::isnan(out[1]));
        QCOMPARE(out[2], 1.0f);
    }

    void dropoutMaskEqualsCpu_data() {
        QTest::addColumn<kernels::DropoutShape>("shape");
        QTest::newRow("p 0.5, odd count") << kernels::DropoutShape{.count = 1001, .p = 0.5f, .seed = 42};
        QTest::newRow("p 0.1, offset not a multiple of 4")
            << kernels::DropoutShape{.count = 333, .p = 0.1f, .seed = 0x123456789abcdefull, .offset = 7};
        QTest::newRow("offset crossing 2^32")
            << kernels::DropoutShape{.count = 64, .p = 0.3f, .seed = 5, .offset = (1ull << 32) - 30};
        QTest::newRow("high offset bits")
            << kernels::DropoutShape{.count = 40, .p = 0.7f, .seed = ~0ull, .offset = 0xfffffff3ull << 30};
        QTest::newRow("p 0") << kernels::DropoutShape{.count = 9, .p = 0.0f, .seed = 1};
        QTest::newRow("p 1") << kernels::DropoutShape{.count = 9, .p = 1.0f, .seed = 1};
        QTest::newRow("count 1") << kernels::DropoutShape{.count = 1, .p = 0.5f, .seed = 3, .offset = 2};
    }
    void dropoutMaskEqualsCpu() {
        QFETCH(kernels::DropoutShape, shape);
        const auto s = shape;
        const auto x = randomVector(s.count, 22, 0.5f, 1.5f);  // never zero: a zero output means dropped
        std::vector<float> y(s.count), dx(s.count);
        kernels::dropout_forward(s, x.data(), y.data());
        kernels::dropout_backward(s, x.data(), dx.data());
        const auto gpu = host::dropoutForward(*device_, s, x);
        QVERIFY(bitIdentical(gpu, y));
        for (std::size_t i = 0; i < gpu.size(); ++i)
            QCOMPARE(gpu[i] != 0.0f, kernels::dropout_keeps(s.seed, s.offset + i, s.p));
        QVERIFY(bitIdentical(host::dropoutBackward(*device_, s, x), dx));
    }

    void attentionMatchesCpu_data() {
        QTest::addColumn<kernels::AttentionShape>("shape");
        QTest::newRow("T = 1") << kernels::AttentionShape{.batch = 2, .heads = 1, .headDim = 3, .valueDim = 5};
        QTest::newRow("T = 1, causal") << kernels::AttentionShape{.headDim = 4, .valueDim = 4, .causal = true};
        QTest::newRow("causal, odd") << kernels::AttentionShape{
            .batch = 2, .heads = 3, .queryLength = 7, .keyLength = 7, .headDim = 5, .valueDim = 6, .causal = true};
        QTest::newRow("Tq != Tk, scale") << kernels::AttentionShape{
            .batch = 1, .heads = 2, .queryLength = 5, .keyLength = 9, .headDim = 8, .valueDim = 3, .scale = 0.7f};
        QTest::newRow("causal, Tq < Tk") << kernels::AttentionShape{
            .batch = 1, .heads = 1, .queryLength = 4, .keyLength = 37, .headDim = 33, .valueDim = 40, .causal = true};
    }
    void attentionMatchesCpu() {
        QFETCH(kernels::AttentionShape, shape);
        const auto s = shape;
        const std::size_t bh = s.batch * s.heads;
        const auto q = randomVector(bh * s.queryLength * s.headDim, 23, -2.0f, 2.0f);
        const auto k = randomVector(bh * s.keyLength * s.headDim, 24, -2.0f, 2.0f);
        const auto v = randomVector(bh * s.keyLength * s.valueDim, 25);
        const auto dout = randomVector(bh * s.queryLength * s.valueDim, 26);
        std::vector<float> out(bh * s.queryLength * s.valueDim), probs(bh * s.queryLength * s.keyLength);
        std::vector<float> dq(q.size()), dk(k.size()), dv(v.size());
        kernels::attention_forward(s, q.data(), k.data(), v.data(), out.data(), probs.data());
        kernels::attention_backward(s, q.data(), k.data(), v.data(), probs.data(), dout.data(), dq.data(), dk.data(),
                                    dv.data());
        const auto gpu = host::attentionForward(*device_, s, q, k, v);
        EXPECT_CLOSE(gpu.out, out, kExp);
        EXPECT_CLOSE(gpu.probs, probs, kExp);
        if (s.causal)  // masked probabilities are exactly zero
            for (std::size_t r = 0; r < bh * s.queryLength; ++r)
                for (std::size_t j = r % s.queryLength + 1; j < static_cast<std::size_t>(s.keyLength); ++j)
                    QCOMPARE(gpu.probs[r * s.keyLength + j], 0.0f);
        // The backward from the CPU's probabilities, so that only the backward is measured.
        const auto grads = host::attentionBackward(*device_, s, q, k, v, probs, dout);
        EXPECT_CLOSE(grads.query, dq, kFp32);
        EXPECT_CLOSE(grads.key, dk, kFp32);
        EXPECT_CLOSE(grads.value, dv, kFp32);
        const auto onlyValue = host::attentionBackward(*device_, s, q, k, v, probs, dout, {false, false, true});
        QVERIFY(onlyValue.query.empty() && onlyValue.key.empty());
        QVERIFY(bitIdentical(onlyValue.value, grads.value));
    }

    // The host's division constants divide every 32-bit numerator exactly (the shader computes the
    // same; the convolution tests check it there), for divisors at the edges and convolution extents.
    void divisionMagicDividesExactly() {
        std::vector<std::uint32_t> divisors{1,           2,
                                            3,           5,
                                            7,           14,
                                            28,          196,
                                            784,         1000,
                                            65535,       65536,
                                            65537,       (1u << 31) - 1,
                                            1u << 31,    (1u << 31) + 1,
                                            0xfffffffeu, 0xffffffffu};
        std::uint64_t state = 12345;
        const auto next = [&state] {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            return static_cast<std::uint32_t>(state >> 32);
        };
        for (int i = 0; i < 200; ++i) divisors.push_back(std::max<std::uint32_t>(next() >> (next() % 32), 1));
        for (const std::uint32_t d : divisors) {
            const layers::DivisionMagic magic = layers::divisionMagic(d);
            std::vector<std::uint32_t> numerators{0, 1, d - 1, d, d + 1, 2 * d, 0x7fffffffu, 0xfffffffeu, 0xffffffffu};
            for (int i = 0; i < 2000; ++i) numerators.push_back(next());
            for (const std::uint32_t n : numerators)
                QVERIFY2(magic.divide(n) == n / d, qPrintable(QString("%1 / %2").arg(n).arg(d)));
        }
    }

    // The weight gradient's split depends on the shape alone (the Fashion-MNIST CNN's two convolutions
    // at batch 128, a small product, a large weight).
    void conv2dWeightGradientSplit() {
        using layers::weightGradientSplit;
        const kernels::Conv2dShape conv1{.batch = 128,
                                         .inChannels = 1,
                                         .height = 28,
                                         .width = 28,
                                         .outChannels = 32,
                                         .kernelH = 3,
                                         .kernelW = 3,
                                         .padH = 1,
                                         .padW = 1};
        QCOMPARE(weightGradientSplit(conv1).splits, 56u);  // 32 x 9 gradient: one tile, K = 100352
        QCOMPARE(weightGradientSplit(conv1).kSplit, 1792u);
        kernels::Conv2dShape conv2 = conv1;
        conv2.inChannels = 32, conv2.height = 14, conv2.width = 14, conv2.outChannels = 64;
        QCOMPARE(weightGradientSplit(conv2).splits, 20u);  // 64 x 288: five tiles, K = 25088
        QCOMPARE(layers::conv2dBackwardScratchFloats(conv2), std::uint64_t{20} * 64 * 288);
        QCOMPARE(weightGradientSplit(kSplitConv).splits, 4u);
        QCOMPARE(weightGradientSplit(kernels::Conv2dShape{.batch = 2, .height = 8, .width = 8}).splits, 1u);
        kernels::Conv2dShape wide = conv2;
        wide.inChannels = 256, wide.outChannels = 256;  // 256 x 2304: 144 tiles already
        QCOMPARE(weightGradientSplit(wide).splits, 2u);
        QCOMPARE(layers::conv2dBackwardScratchFloats(kernels::Conv2dShape{}), std::uint64_t{0});
    }

    // The same inputs twice on the same device: every output equal to the last bit.
    void runsAreBitIdentical() {
        const kernels::Conv2dShape conv{.batch = 3,
                                        .inChannels = 4,
                                        .height = 9,
                                        .width = 9,
                                        .outChannels = 40,
                                        .kernelH = 3,
                                        .kernelW = 3,
                                        .padH = 1,
                                        .padW = 1};
        const auto x = randomVector(3 * 4 * 81, 27), w = randomVector(40 * 4 * 9, 28), b = randomVector(40, 29);
        const auto dy = randomVector(3 * 40 * 81, 30);
        const auto first = host::conv2dBackward(*device_, conv, x, w, dy);
        const auto second = host::conv2dBackward(*device_, conv, x, w, dy);
        QVERIFY(bitIdentical(first.input, second.input));
        QVERIFY(bitIdentical(first.weight, second.weight));
        QVERIFY(bitIdentical(first.bias, second.bias));
        QVERIFY(
            bitIdentical(host::conv2dForward(*device_, conv, x, w, b), host::conv2dForward(*device_, conv, x, w, b)));

        const kernels::LayerNormShape ln{.rows = 9, .features = 517};
        const auto lx = randomVector(9 * 517, 31), ldy = randomVector(9 * 517, 32), lw = randomVector(517, 33);
        const auto lf1 = host::layerNormForward(*device_, ln, lx, lw, lw),
                   lf2 = host::layerNormForward(*device_, ln, lx, lw, lw);
        QVERIFY(bitIdentical(lf1.y, lf2.y));
        const auto lb1 = host::layerNormBackward(*device_, ln, lx, lw, lf1.mean, lf1.invstd, ldy);
        const auto lb2 = host::layerNormBackward(*device_, ln, lx, lw, lf1.mean, lf1.invstd, ldy);
        QVERIFY(bitIdentical(lb1.input, lb2.input) && bitIdentical(lb1.weight, lb2.weight));

        const kernels::AttentionShape at{
            .batch = 2, .heads = 2, .queryLength = 6, .keyLength = 6, .headDim = 4, .valueDim = 4, .causal = true};
        const auto q = randomVector(96, 34), k = randomVector(96, 35), v = randomVector(96, 36),
                   g = randomVector(96, 37);
        const auto af1 = host::attentionForward(*device_, at, q, k, v),
                   af2 = host::attentionForward(*device_, at, q, k, v);
        QVERIFY(bitIdentical(af1.out, af2.out) && bitIdentical(af1.probs, af2.probs));
        const auto ab1 = host::attentionBackward(*device_, at, q, k, v, af1.probs, g);
        const auto ab2 = host::attentionBackward(*device_, at, q, k, v, af1.probs, g);
        QVERIFY(bitIdentical(ab1.query, ab2.query) && bitIdentical(ab1.key, ab2.key) &&
                bitIdentical(ab1.value, ab2.value));
    }

    // A device that allows only 2 workgroups per dimension per dispatch: every op's grid is split into
    // several vkCmdDispatchBase calls, and the shaders must index by the base-including IDs.
    void splitDispatchesGiveTheSameResults() {
        auto tiny = openDevice({.maxGroupsPerDispatch = 2});
        const kernels::Conv2dShape conv{.batch = 2,
                                        .inChannels = 6,
                                        .height = 11,
                                        .width = 10,
                                        .outChannels = 9,
                                        .kernelH = 3,
                                        .kernelW = 3,
                                        .padH = 1,
                                        .padW = 1,
                                        .groups = 3};
        const auto x = randomVector(2 * 6 * 110, 38), w = randomVector(9 * 2 * 9, 39), b = randomVector(9, 40);
        const auto dy = randomVector(2 * 9 * 110, 41);
        QVERIFY(bitIdentical(host::conv2dForward(*tiny, conv, x, w, b), host::conv2dForward(*device_, conv, x, w, b)));
        const auto g1 = host::conv2dBackward(*tiny, conv, x, w, dy),
                   g2 = host::conv2dBackward(*device_, conv, x, w, dy);
        QVERIFY(bitIdentical(g1.input, g2.input) && bitIdentical(g1.weight, g2.weight) &&
                bitIdentical(g1.bias, g2.bias));
        // A split weight gradient: slices along z, and the second pass, in several dispatches.
        const auto sx = randomVector(8 * 2 * 24 * 24, 43), sdy = randomVector(8 * 5 * 24 * 24, 44);
        const auto sw = randomVector(5 * 2 * 9, 45);
        QVERIFY(bitIdentical(host::conv2dBackward(*tiny, kSplitConv, sx, sw, sdy).weight,
                             host::conv2dBackward(*device_, kSplitConv, sx, sw, sdy).weight));

        const kernels::LayerNormShape ln{.rows = 7, .features = 5};
        const auto lx = randomVector(35, 42);
        QVERIFY(bitIdentical(host::layerNormForward(*tiny, ln, lx, {}, {}).y,
                             host::layerNormForward(*device_, ln, lx, {}, {}).y));

        const kernels::EmbeddingShape emb{.vocabulary = 9, .dim = 3, .count = 20};
        std::vector<float> idx(20);
        for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<float>((i * 7) % 9);
        const auto edy = randomVector(60, 43);
        QVERIFY(bitIdentical(host::embeddingBackward(*tiny, emb, idx, edy),
                             host::embeddingBackward(*device_, emb, idx, edy)));

        const kernels::DropoutShape drop{.count = 5000, .p = 0.4f, .seed = 9};
        const auto dx = randomVector(5000, 44, 0.5f, 1.0f);
        QVERIFY(bitIdentical(host::dropoutForward(*tiny, drop, dx), host::dropoutForward(*device_, drop, dx)));

        const kernels::AttentionShape at{
            .batch = 3, .heads = 2, .queryLength = 5, .keyLength = 5, .headDim = 3, .valueDim = 2, .causal = true};
        const auto q = randomVector(90, 45), k = randomVector(90, 46), v = randomVector(60, 47);
        QVERIFY(bitIdentical(host::attentionForward(*tiny, at, q, k, v).probs,
                             host::attentionForward(*device_, at, q, k, v).probs));
    }

    void badOperandsAreErrors() {
        const kernels::Conv2dShape conv{.batch = 1, .inChannels = 2, .height = 4, .width = 4, .outChannels = 2};
        Buffer small = device_->createBuffer(4 * sizeof(float));
        Recorder rec(*device_);
        QVERIFY_THROWS_EXCEPTION(
            raven::Error, layers::conv2dForward(*device_, rec, conv, small.range(), small.range(), {}, small.range()));
        QVERIFY_THROWS_EXCEPTION(raven::Error, layers::conv2dForward(*device_, rec, {.groups = 2}, small.range(),
                                                                     small.range(), {}, small.range()));
    }
};

QTEST_GUILESS_MAIN(LayersTest)
#include "LayersTest.moc"
