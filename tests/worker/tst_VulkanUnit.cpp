// A work unit computed on a Vulkan device (lavapipe in CI) gives the CPU's gradient, up to the last
// bits that GPU arithmetic may differ in, and the worker describes the device it computed on.
#include <QRegularExpression>
#include <QTest>

#include <cmath>

#include "UnitFixture.h"
#include "training/ShardGradient.h"
#include "training/SyntheticDataset.h"

using namespace raven;
using namespace raven::worker;

class TestVulkanUnit : public QObject {
    Q_OBJECT

private slots:
    void matchesTheCpu() {
        QTest::failOnWarning(QRegularExpression(QStringLiteral("validation")));
        QTemporaryDir dir;
        data::ShardStore store(dir.path());
        auto manifest =
            std::make_shared<const data::Manifest>(data::publishDataset(testing::syntheticDataset(200, 20), store, 32));
        const std::string spec = testing::kSyntheticMlpSpec;
        nn::Model model(nn::ModelSpec::parse(spec));
        const QByteArray weights = testing::weightsBytes(model);
        const std::vector<data::ShardRef> shards(manifest->train.shards.begin(), manifest->train.shards.begin() + 3);
        const wire::WorkUnit unit = testing::makeUnit("v", *manifest, spec, shards);

        UnitComputer vulkan("vulkan", 1);
        const DeviceReport report = vulkan.open();
        QVERIFY2(report.error.isEmpty(), qPrintable(report.error));
        if (report.device.backend() != "vulkan") QSKIP(qPrintable("no Vulkan device: " + report.note));
        QVERIFY(report.device.measured_gflops() > 0);
        QVERIFY(report.device.type() != wire::DEVICE_TYPE_UNSPECIFIED);
        qInfo("%s, %.2f GFLOP/s", qPrintable(report.summary), report.device.measured_gflops());

        UnitComputer cpu("cpu", 1);
        const ComputedUnit onGpu = vulkan.compute(testing::makeInputs(unit, manifest, store, weights));
        const ComputedUnit onCpu = cpu.compute(testing::makeInputs(unit, manifest, store, weights));
        QVERIFY2(onGpu.error.isEmpty(), qPrintable(onGpu.error));
        QVERIFY2(onCpu.error.isEmpty(), qPrintable(onCpu.error));
        const std::vector<float> g = testing::decodeResult(onGpu, 163).gradient;
        const std::vector<float> c = testing::decodeResult(onCpu, 163).gradient;
        float scale = 0, worst = 0;
        for (std::size_t i = 0; i < c.size(); ++i) {
            scale = std::max(scale, std::fabs(c[i]));
            worst = std::max(worst, std::fabs(g[i] - c[i]));
        }
        qInfo("max |vulkan - cpu| / max |cpu| = %.3g", double(worst / scale));
        QVERIFY(worst <= 1e-4f * scale);
        QCOMPARE(onGpu.samples, onCpu.samples);
    }
};

QTEST_GUILESS_MAIN(TestVulkanUnit)
#include "tst_VulkanUnit.moc"
