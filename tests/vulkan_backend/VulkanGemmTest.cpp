// The GEMM variants of the Vulkan backend (core/vulkan/backend/GemmTiles.h) against the CPU backend on
// lavapipe: every tile (large and medium in both kernels, small, tiny, minimal) with scalar and vec4 loads, with and
// without split-k, on awkward shapes (1, not multiples of a tile, smaller than a tile, K much larger than M*N,
// transposed and batched operands), normalized MSE <= 1e-7; variants that promise the same order of
// accumulation give bit-identical results; each variant repeats bit for bit; and the choice of tiles per
// device and of split-k per shape. Every test ends with zero validation messages.
#include "../vulkan/VulkanTestSupport.h"
#include "BackendComparison.h"

#include "cpu/CpuBackend.h"
#include "tensor/TensorOps.h"
#include "vulkan/backend/GemmTiles.h"
#include "vulkan/backend/VulkanBackend.h"

#include <QTest>

#include <cstring>

using namespace raven;
using raven::test::normalizedMse;
using raven::test::randomValues;

namespace {

constexpr double kTolerance = 1e-7;  // normalized MSE, fp32

struct Case {
    const char* name;
    Shape a, b;  // as stored; `transposeA/B` view them transposed in the product
    bool transposeA = false, transposeB = false, bias = false;
};

// Shapes that stress the edges: 1, not a multiple of any tile, smaller than the smallest, K much
// larger than M * N (split-k territory), transposed operands (aligned ones take the vec4 paths),
// batches with a broadcast operand.
const Case kCases[] = {
    {"1x1x1", {1, 1}, {1, 1}},
    {"1x37x1 bias", {1, 1}, {1, 37}, false, false, true},
    {"5x3x7 bias", {5, 7}, {7, 3}, false, false, true},
    {"17x33x9", {17, 9}, {9, 33}},
    {"64x64x64 aligned", {64, 64}, {64, 64}},
    {"130x67x70 bias", {130, 70}, {70, 67}, false, false, true},
    {"129x131x24 aligned", {129, 24}, {24, 132}, false, false, true},
    {"4x3x4100 tall K", {4, 4100}, {4100, 3}},
    {"8x8x4096 tall K aligned", {8, 4096}, {4096, 8}, false, false, true},
    {"a^T b^T aligned 36x40x20", {20, 36}, {40, 20}, true, true},
    {"a^T b^T 19x23x40", {40, 19}, {23, 40}, true, true, true},
    {"x w^T linear 33x48x64", {33, 64}, {48, 64}, false, true, true},
    {"batched [3,2,9,5]x[3,2,5,8]", {3, 2, 9, 5}, {3, 2, 5, 8}},
};

std::vector<vkb::GemmVariant> allVariants() {
    std::vector<vkb::GemmVariant> out;
    for (const vkb::GemmTile& tile : vkb::gemmTiles())
        for (bool vec : {false, true})
            for (int64_t kSplit : {int64_t{0}, int64_t{64}}) {
                vkb::GemmVariant v;
                v.tile = tile;
                v.vectorLoads = vec;
                if (kSplit > 0) v.splitK = {2, kSplit};  // slices of 64: as many as K needs
                out.push_back(v);
            }
    return out;
}

Tensor viewOf(const Tensor& t, bool transposed) { return transposed ? t.transpose(-1, -2) : t; }

bool bitIdentical(const std::vector<float>& x, const std::vector<float>& y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

}  // namespace

class VulkanGemmTest : public QObject {
    Q_OBJECT

    std::shared_ptr<vulkan::Instance> instance_;
    std::size_t messagesBefore_ = 0;
    std::unique_ptr<VulkanBackend> gpu_;

    struct Operands {
        Tensor ca, cb, cbias, ga, gb, gbias;
    };
    Operands operands(const Case& c, unsigned seed) {
        Operands o;
        const auto va = randomValues(numelOf(c.a), seed), vb = randomValues(numelOf(c.b), seed + 1);
        o.ca = viewOf(fromVector(c.a, va), c.transposeA);
        o.ga = viewOf(fromVector(c.a, va, *gpu_), c.transposeA);
        o.cb = viewOf(fromVector(c.b, vb), c.transposeB);
        o.gb = viewOf(fromVector(c.b, vb, *gpu_), c.transposeB);
        if (c.bias) {
            const auto vbias = randomValues(o.cb.size(-1), seed + 2);
            o.cbias = fromVector({o.cb.size(-1)}, vbias);
            o.gbias = fromVector({o.cb.size(-1)}, vbias, *gpu_);
        }
        return o;
    }

private slots:
    void initTestCase() {
        QString skip;
        instance_ = raven::test::openInstance(skip);
        if (!instance_) QSKIP(qPrintable(skip));
        VulkanBackendOptions options;
        options.device.pipelineCacheDir = std::filesystem::path();  // never the user's cache
        gpu_ = std::make_unique<VulkanBackend>(instance_, options);
    }
    void cleanupTestCase() { gpu_.reset(); }
    RAVEN_VULKAN_VALIDATION_CHECKS

    void everyVariantEqualsCpu_data() {
        QTest::addColumn<int>("which");
        for (int i = 0; i < static_cast<int>(std::size(kCases)); ++i) QTest::newRow(kCases[i].name) << i;
    }
    void everyVariantEqualsCpu() {
        QFETCH(int, which);
        const Case& c = kCases[which];
        Operands o = operands(c, 10 + static_cast<unsigned>(which));
        const std::vector<float> expected = cpuBackend().matmul(o.ca, o.cb, o.cbias).toVector();
        std::vector<float> unsplit;  // the first variant without split-k: the others must match it exactly
        for (const vkb::GemmVariant& v : allVariants()) {
            const std::vector<float> got = vkb::matmulWith(*gpu_, o.ga, o.gb, o.gbias, v).toVector();
            const double e = normalizedMse(got, expected);
            QVERIFY2(e <= kTolerance,
                     qPrintable(QString("%1: normalized MSE %2").arg(vkb::describe(v).c_str()).arg(e)));
            if (v.splitK.splits > 1) continue;
            if (unsplit.empty()) unsplit = got;
            // Tiles and loads change neither the products nor their order.
            QVERIFY2(bitIdentical(got, unsplit),
                     qPrintable(QString("%1 differs in bits from the first tile").arg(vkb::describe(v).c_str())));
        }
    }

    void chosenVariantEqualsCpu() {
        // VulkanBackend::matmul itself on the tall-K shapes, where it picks split-k.
        for (const Case& c : kCases) {
            Operands o = operands(c, 50);
            const double e = normalizedMse(gpu_->matmul(o.ga, o.gb, o.gbias).toVector(),
                                           cpuBackend().matmul(o.ca, o.cb, o.cbias).toVector());
            QVERIFY2(e <= kTolerance, qPrintable(QString("%1: normalized MSE %2").arg(c.name).arg(e)));
        }
        const vkb::SplitK s = vkb::chooseSplitK(8, 8, 4096, 1);
        QVERIFY(s.splits > 1);  // the case above did go through split-k
    }

    void deterministic() {
        // The same inputs, the same variant: the same bits, split-k included (its second pass adds the
        // slices in a fixed order, no atomics).
        const Case tall{"tall", {7, 3000}, {3000, 5}, false, false, true};
        Operands o = operands(tall, 77);
        for (const vkb::GemmVariant& v : allVariants()) {
            vkb::GemmVariant chosen = v;
            if (chosen.splitK.splits > 1) chosen.splitK.kSplit = 1024;
            const auto first = vkb::matmulWith(*gpu_, o.ga, o.gb, o.gbias, chosen).toVector();
            const auto second = vkb::matmulWith(*gpu_, o.ga, o.gb, o.gbias, chosen).toVector();
            QVERIFY2(bitIdentical(first, second), vkb::describe(chosen).c_str());
        }
    }

    void splitKFromTheShapeAlone() {
        const vkb::SplitK tall = vkb::chooseSplitK(4096, 512, 14336, 1);  // a transformer's down projection
        QCOMPARE(tall.splits, 2u);
        QCOMPARE(tall.kSplit, int64_t{7168});
        const vkb::SplitK tiny = vkb::chooseSplitK(8, 8, 100000, 1);  // small M*N, huge K
        QCOMPARE(tiny.splits, 63u);
        QVERIFY(tiny.kSplit % 64 == 0 && tiny.kSplit * tiny.splits >= 100000);
        QCOMPARE(vkb::chooseSplitK(1024, 1024, 1024, 1).splits, 1u);  // K not tall
        QCOMPARE(vkb::chooseSplitK(4096, 4096, 4096, 1).splits, 1u);
        QCOMPARE(vkb::chooseSplitK(8192, 8192, 8192, 1).splits, 1u);
        QCOMPARE(vkb::chooseSplitK(64, 64, 1500, 1).splits, 1u);       // K below kSplitKMinK
        QCOMPARE(vkb::chooseSplitK(2048, 2048, 60000, 1).splits, 1u);  // enough tiles already
        QCOMPARE(vkb::chooseSplitK(64, 64, 4096, 1024).splits, 1u);    // the batch fills the device
        QVERIFY(vkb::chooseSplitK(32, 32, 4096, 64).splits > 1);       // a small batch does not
    }

    void tilesFollowTheDevice() {
        vulkan::DeviceInfo gpu = gpu_->device().info();
        gpu.type = vulkan::DeviceType::Discrete;
        gpu.maxComputeWorkGroupInvocations = 1024;
        gpu.maxComputeWorkGroupSize = {1024, 1024, 64};
        gpu.maxComputeSharedMemorySize = 49152;
        gpu.subgroupSize = 32;
        QCOMPARE(vkb::chooseGemmTile(gpu, 4096, 4096), vkb::kLargeTile);
        QCOMPARE(vkb::chooseGemmTile(gpu, 1024, 1024), vkb::kMediumTile);    // 64 large tiles would leave SMs idle
        QCOMPARE(vkb::chooseGemmTile(gpu, 1024, 1024, 4), vkb::kLargeTile);  // a batch of 4 fills them
        QCOMPARE(vkb::chooseGemmTile(gpu, 40, 4096).bm, 32u);
        QCOMPARE(vkb::chooseGemmTile(gpu, 3, 4096).bm, 16u);
        gpu.subgroupSize = 64;  // AMD's wave64: 256 invocations are whole subgroups still
        QCOMPARE(vkb::chooseGemmTile(gpu, 4096, 4096), vkb::kLargeTile);

        vulkan::DeviceInfo small = gpu_->device().info();  // a device near Vulkan's minimum limits
        small.maxComputeWorkGroupInvocations = 128;
        small.maxComputeSharedMemorySize = 16384;
        const vkb::GemmTile tile = vkb::chooseGemmTile(small, 4096, 4096);
        QVERIFY(tile.threads() <= 128);
        QVERIFY(tile.sharedBytes() <= 16384);
        QCOMPARE(tile, vkb::kMinimalTile);

        // lavapipe: a CPU device takes the large tile without the GPU's minimum number of workgroups.
        QCOMPARE(vkb::chooseGemmTile(gpu_->device().info(), 4096, 4096), vkb::kLargeTile);
        QCOMPARE(vkb::chooseGemmTile(gpu_->device().info(), 256, 256), vkb::kLargeTile);
        QCOMPARE(vkb::chooseGemmTile(gpu_->device().info(), 100, 100), vkb::kMediumTile);

        // The blocked kernel's own conditions: register blocks of whole 4x4 squares, and staged slices
        // that divide evenly among the invocations.
        QVERIFY(!vkb::gemmTileAllowed(gpu, {32, 32, 16, 2, 2, vkb::GemmKernel::Blocked}));
        QVERIFY(!vkb::gemmTileAllowed(gpu, {128, 128, 4, 8, 8, vkb::GemmKernel::Blocked}));
        QVERIFY(vkb::gemmTileAllowed(gpu, {128, 128, 4, 8, 8}));  // the interleaved one stages any slice
        for (const vkb::GemmTile& t : vkb::gemmTiles()) {
            QCOMPARE(t.bm % t.tm, 0u);
            QCOMPARE(t.bn % t.tn, 0u);
            QVERIFY(t.bk % 4 == 0 && t.bm % 4 == 0 && t.bn % 4 == 0);  // the vec4 loads need it
        }
    }
};

QTEST_GUILESS_MAIN(VulkanGemmTest)
#include "VulkanGemmTest.moc"
