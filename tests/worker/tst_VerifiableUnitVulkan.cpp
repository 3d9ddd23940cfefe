// Issue 18 item 3, the proof: one verifiable work unit, computed by the worker's own UnitComputer (the
// path a contributor's result takes: shards checked and decoded, weights loaded, forward, loss,
// backward, the summed-loss gradient encoded as the unit asks), gives the same gradient digest
// (coordinator/GradientDigest.h: SHA-256, NaNs canonicalized) on the CPU backend at 1 and 2 threads
// and on a Vulkan device (lavapipe in CI, with validation on). Two MLPs: the worker tests' synthetic
// one (6-16-3) and examples/mlp.json (784-256-128-10); two CNNs: examples/cnn.json and a small one
// with what the example lacks (a strided, grouped and a pointwise convolution, average pooling with
// and without the padding counted); all but the synthetic MLP on Fashion-MNIST-shaped data, 128
// samples in four shards. The fast mode's Vulkan gradient is computed too and must differ from the
// verifiable one somewhere: otherwise the check could not tell the modes apart.
#include <QFile>
#include <QRegularExpression>
#include <QTest>

#include "UnitFixture.h"
#include "coordinator/GradientDigest.h"
#include "coordinator/ResultComparison.h"
#include "training/ShardGradient.h"
#include "training/SyntheticDataset.h"

using namespace raven;
using namespace raven::worker;

namespace {

// Fashion-MNIST's shapes ([1, 28, 28] pixels in [0, 1] with 1/255 steps, ten classes), seeded values.
data::Dataset fashionShapedDataset(std::int64_t count) {
    data::Dataset ds;
    ds.name = "fashion-shaped";
    for (int k = 0; k < 10; ++k) ds.classes.push_back("class" + std::to_string(k));
    ds.train = data::Samples({1, 28, 28}, {});
    ds.test = data::Samples({1, 28, 28}, {});
    std::uint64_t state = 0x243F6A8885A308D3ull;
    const auto next = [&] {  // splitmix64: the same values on every platform
        state += 0x9E3779B97F4A7C15ull;
        std::uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    std::vector<float> pixels(784);
    for (data::Samples* split : {&ds.train, &ds.test}) {
        for (std::int64_t i = 0; i < count; ++i) {
            const auto label = static_cast<std::int32_t>(next() % 10);
            for (float& p : pixels) p = static_cast<float>(next() % 256) / 255.0f;
            split->append(pixels, std::span<const std::int32_t>(&label, 1));
        }
    }
    ds.normalization = data::Normalization::fit(ds.train, data::NormalizationKind::Global);
    return ds;
}

std::string exampleSpec(const char* name) {
    QFile file(qEnvironmentVariable("RAVEN_SOURCE_DIR") + "/examples/" + name);
    RAVEN_CHECK(file.open(QIODevice::ReadOnly), "cannot read examples/" + std::string(name),
                "run the test through ctest, which sets RAVEN_SOURCE_DIR");
    return file.readAll().toStdString();
}

// A small CNN on Fashion-MNIST's [1, 28, 28] with the convolution and pooling forms examples/cnn.json
// does not use: stride 2 with padding, groups, a pointwise (1x1) convolution, dilation, average pooling
// counting the padding and not counting it.
constexpr const char* kSmallCnnSpec = R"({
  "name": "small-cnn",
  "input": {"shape": [1, 28, 28]},
  "layers": [
    {"name": "conv1", "kind": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1},
    {"name": "tanh1", "kind": "tanh"},
    {"name": "pool1", "kind": "avg_pool2d", "kernel_size": 3, "stride": 2, "padding": 1},
    {"name": "conv2", "kind": "conv2d", "out_channels": 6, "kernel_size": 3, "padding": 2, "dilation": 2,
     "groups": 2},
    {"name": "relu2", "kind": "relu"},
    {"name": "conv3", "kind": "conv2d", "out_channels": 5, "kernel_size": 1},
    {"name": "pool2", "kind": "avg_pool2d", "kernel_size": 3, "stride": 2, "padding": 1,
     "count_include_pad": false},
    {"name": "flatten", "kind": "flatten"},
    {"name": "fc", "kind": "linear", "out": 10}
  ],
  "loss": {"kind": "cross_entropy"},
  "init": {"scheme": "kaiming_uniform", "seed": 3}
})";

struct Computed {
    QString digest;
    std::vector<float> gradient;
    protocol::WorkResult result;
};

}  // namespace

class TestVerifiableUnitVulkan : public QObject {
    Q_OBJECT

private slots:
    void sameDigestOnEveryPath_data() {
        QTest::addColumn<QString>("model");
        QTest::newRow("synthetic-mlp 6-16-3") << QStringLiteral("synthetic");
        QTest::newRow("examples/mlp.json 784-256-128-10") << QStringLiteral("mlp.json");
        QTest::newRow("examples/cnn.json conv-pool-conv-pool-fc-fc") << QStringLiteral("cnn.json");
        QTest::newRow("small CNN: strided, grouped, dilated, pointwise conv, avg pooling")
            << QStringLiteral("small-cnn");
    }
    void sameDigestOnEveryPath() {
        QFETCH(QString, model);
        QTest::failOnWarning(QRegularExpression(QStringLiteral("validation")));
        const bool synthetic = model == QLatin1String("synthetic");
        QTemporaryDir dir;
        data::ShardStore store(dir.path());
        const data::Dataset dataset = synthetic ? testing::syntheticDataset(128, 8) : fashionShapedDataset(128);
        auto manifest = std::make_shared<const data::Manifest>(data::publishDataset(dataset, store, 32));
        const std::string spec = synthetic                             ? std::string(testing::kSyntheticMlpSpec)
                                 : model == QLatin1String("small-cnn") ? std::string(kSmallCnnSpec)
                                                                       : exampleSpec(qPrintable(model));
        nn::Model reference(nn::ModelSpec::parse(spec));
        const QByteArray weights = testing::weightsBytes(reference);
        const auto parameters = static_cast<std::uint64_t>(training::parameterCount(reference));
        wire::WorkUnit unit = testing::makeUnit("u", *manifest, spec, manifest->train.shards);
        unit.set_kernel_mode(wire::KERNEL_MODE_VERIFIABLE);

        const auto compute = [&](UnitComputer& computer, const wire::WorkUnit& u) {
            const ComputedUnit done = computer.compute(testing::makeInputs(u, manifest, store, weights));
            RAVEN_CHECK(done.error.isEmpty(), done.error.toStdString(), "");
            const protocol::WorkResult result = testing::decodeResult(done, parameters);
            RAVEN_CHECK(result.kernelMode == u.kernel_mode(), "the result names another kernel mode than its unit's",
                        "");
            return Computed{coordinator::gradientDigest(result.gradient), result.gradient, result};
        };

        UnitComputer vulkan("vulkan", 1);
        const DeviceReport report = vulkan.open();
        QVERIFY2(report.error.isEmpty(), qPrintable(report.error));
        if (report.device.backend() != "vulkan") QSKIP(qPrintable("no Vulkan device: " + report.note));
        UnitComputer cpu1("cpu", 1), cpu2("cpu", 2);
        const Computed one = compute(cpu1, unit), two = compute(cpu2, unit), gpu = compute(vulkan, unit);
        qInfo("%s: %llu parameters; SHA-256 cpu x1 %s, cpu x2 %s, %s %s", qPrintable(model),
              static_cast<unsigned long long>(parameters), qPrintable(one.digest), qPrintable(two.digest),
              qPrintable(report.summary), qPrintable(gpu.digest));
        QCOMPARE(one.gradient.size(), static_cast<std::size_t>(parameters));
        QCOMPARE(two.digest, one.digest);
        QCOMPARE(gpu.digest, one.digest);

        // The same unit in the fast mode on the same device: a different digest, or the comparison above
        // would not show that the verifiable kernels ran.
        wire::WorkUnit fastUnit = unit;
        fastUnit.set_kernel_mode(wire::KERNEL_MODE_FAST);
        const Computed fast = compute(vulkan, fastUnit);
        QVERIFY2(fast.digest != gpu.digest, "the fast mode gave the verifiable mode's bits");
        // ... while it computes the same gradient up to rounding.
        float scale = 0, worst = 0;
        for (std::size_t i = 0; i < one.gradient.size(); ++i) {
            scale = std::max(scale, std::fabs(one.gradient[i]));
            worst = std::max(worst, std::fabs(fast.gradient[i] - one.gradient[i]));
        }
        QVERIFY2(worst <= 1e-4f * scale, qPrintable(QString("fast vs verifiable: %1 of %2").arg(worst).arg(scale)));

        // A spot-checked fast job (ResultComparison.h): this device's fast result, and the CPU's at two
        // threads, lie within the tolerance of the coordinator's replay (the fast CPU kernels, one thread).
        const Computed replay = compute(cpu1, fastUnit), cpuTwo = compute(cpu2, fastUnit);
        const auto judged = coordinator::ComparedResult::of;
        const double apartGpu = coordinator::relativeGradientDifference(fast.gradient, replay.gradient);
        const double apartCpu2 = coordinator::relativeGradientDifference(cpuTwo.gradient, replay.gradient);
        qInfo("%s, fast kernels against the coordinator's replay: %s %.3g, cpu x2 %.3g (tolerance %.3g)",
              qPrintable(model), qPrintable(report.summary), apartGpu, apartCpu2, coordinator::kFastGradientTolerance);
        const QString gpuApart =
            coordinator::resultDifference(KernelMode::Fast, judged(fast.result), judged(replay.result));
        QVERIFY2(gpuApart.isEmpty(), qPrintable(gpuApart));
        const QString cpuApart =
            coordinator::resultDifference(KernelMode::Fast, judged(cpuTwo.result), judged(replay.result));
        QVERIFY2(cpuApart.isEmpty(), qPrintable(cpuApart));
        // ... and far below what the bed's mildest cheat (a gradient scaled by 2) is away.
        QVERIFY(apartGpu < coordinator::kFastGradientTolerance / 100);
    }
};

QTEST_GUILESS_MAIN(TestVerifiableUnitVulkan)
#include "tst_VerifiableUnitVulkan.moc"
