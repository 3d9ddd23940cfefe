// UnitComputer: a work unit's inputs in, SubmitResult parts out, with no network. The gradient must
// be exactly what training::computeGradientSums gives on the unit's shards concatenated in order (the
// arithmetic the coordinator averages, tests/training proves equal to local training); the model built
// for a spec is reused with each version's weights; a unit that cannot be computed says why.
#include <QTest>

#include "UnitFixture.h"
#include "base/Error.h"
#include "training/ShardGradient.h"
#include "training/SyntheticDataset.h"

using namespace raven;
using namespace raven::worker;

class TestUnitComputer : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::unique_ptr<data::ShardStore> store_;
    std::shared_ptr<const data::Manifest> manifest_;
    const std::string spec_ = testing::kSyntheticMlpSpec;

    // computeGradientSums on a fresh CPU model with `weights`, over the shards in order.
    training::GradientSums reference(const std::vector<data::ShardRef>& shards, const QByteArray& weights) {
        nn::Model model(nn::ModelSpec::parse(spec_));
        const auto* bytes = reinterpret_cast<const std::byte*>(weights.constData());
        nn::loadParameters(model,
                           Checkpoint::fromSafeTensors(
                               SafeTensors::fromBytes({bytes, static_cast<std::size_t>(weights.size())}, "w"), "w"));
        data::Samples samples(manifest_->featureShape, manifest_->labelShape);
        for (const data::ShardRef& s : shards) {
            const data::Samples part = data::loadShardSamples(*manifest_, s, *store_);
            for (std::int64_t i = 0; i < part.count(); ++i) samples.append(part.features(i), part.labels(i));
        }
        return training::computeGradientSums(model, samples, manifest_->normalization);
    }

    std::vector<data::ShardRef> trainShards(std::size_t first, std::size_t count) const {
        return {manifest_->train.shards.begin() + static_cast<std::ptrdiff_t>(first),
                manifest_->train.shards.begin() + static_cast<std::ptrdiff_t>(first + count)};
    }

private slots:
    void initTestCase() {
        store_ = std::make_unique<data::ShardStore>(dir_.path());
        manifest_ = std::make_shared<const data::Manifest>(
            data::publishDataset(testing::syntheticDataset(330, 40), *store_, 32));
    }

    void gradientEqualsTheSharedArithmetic() {
        UnitComputer computer("cpu", 1);
        const DeviceReport device = computer.open();
        QVERIFY2(device.error.isEmpty(), qPrintable(device.error));
        QCOMPARE(device.device.backend(), std::string("cpu"));
        QVERIFY(device.device.measured_gflops() > 0);

        nn::Model initial(nn::ModelSpec::parse(spec_));
        const QByteArray weights = testing::weightsBytes(initial);
        // The last shard of the split is short (10 samples): units need not be full.
        std::vector<data::ShardRef> shards = trainShards(5, 3);
        shards.push_back(manifest_->train.shards.back());
        const wire::WorkUnit unit = testing::makeUnit("11", *manifest_, spec_, shards);
        const ComputedUnit done = computer.compute(testing::makeInputs(unit, manifest_, *store_, weights));
        QVERIFY2(done.error.isEmpty(), qPrintable(done.error));
        QCOMPARE(done.workUnitId, QStringLiteral("11"));

        const training::GradientSums expected = reference(shards, weights);
        const protocol::WorkResult got =
            testing::decodeResult(done, static_cast<std::uint64_t>(training::parameterCount(initial)));
        QCOMPARE(got.workUnitId, std::string("11"));
        QCOMPARE(got.sampleCount, std::uint64_t(3 * 32 + 10));
        QCOMPARE(done.samples, std::int64_t(106));
        QCOMPARE(got.gradient, expected.gradient);  // bit for bit: fp32 travels exactly
        QCOMPARE(got.loss, expected.lossSum);
        QCOMPARE(got.correct, static_cast<std::uint64_t>(expected.correct));
        QCOMPARE(done.flops, 106 * initial.architecture().trainingFlopsPerSample());
        QVERIFY(done.wireBytes >= static_cast<std::int64_t>(4 * got.gradient.size()));
    }

    void reusesTheModelWithEachVersionsWeights() {
        UnitComputer computer("cpu", 1);
        nn::Model model(nn::ModelSpec::parse(spec_));
        const QByteArray v0 = testing::weightsBytes(model);
        model.initialize(99);  // "version 1": other weights for the same spec
        const QByteArray v1 = testing::weightsBytes(model);
        const auto shards = trainShards(0, 2);
        for (int round = 0; round < 2; ++round) {
            for (std::uint64_t version : {0u, 1u}) {
                const QByteArray& w = version == 0 ? v0 : v1;
                const wire::WorkUnit unit = testing::makeUnit("u", *manifest_, spec_, shards, version);
                const ComputedUnit done = computer.compute(testing::makeInputs(unit, manifest_, *store_, w));
                QVERIFY2(done.error.isEmpty(), qPrintable(done.error));
                QCOMPARE(testing::decodeResult(done, 163).gradient, reference(shards, w).gradient);
            }
        }
    }

    void halfPrecisionAndZstd() {
        UnitComputer computer("cpu", 1);
        nn::Model model(nn::ModelSpec::parse(spec_));
        const QByteArray weights = testing::weightsBytes(model);
        const auto shards = trainShards(2, 2);
        const std::vector<float> exact = reference(shards, weights).gradient;
        for (auto encoding : {wire::GRADIENT_ENCODING_FP16, wire::GRADIENT_ENCODING_BF16}) {
            const wire::WorkUnit unit = testing::makeUnit("h", *manifest_, spec_, shards, 0, encoding, true);
            const ComputedUnit done = computer.compute(testing::makeInputs(unit, manifest_, *store_, weights));
            QVERIFY2(done.error.isEmpty(), qPrintable(done.error));
            QCOMPARE(done.parts.front().gradient().encoding(), encoding);
            QVERIFY(done.parts.front().gradient().content().zstd());
            const std::vector<float> got = testing::decodeResult(done, exact.size()).gradient;
            float scale = 0;
            for (float v : exact) scale = std::max(scale, std::fabs(v));
            for (std::size_t i = 0; i < exact.size(); ++i) QVERIFY(std::fabs(got[i] - exact[i]) <= scale / 128);
        }
    }

    // The worker's two stages (the gradient on the compute thread, its encoding on another while the
    // next unit computes) send the bytes compute() sends, in every encoding; an error passes through.
    void twoStagesSendTheSameBytes() {
        UnitComputer computer("cpu", 1);
        nn::Model model(nn::ModelSpec::parse(spec_));
        const QByteArray weights = testing::weightsBytes(model);
        const auto shards = trainShards(1, 3);
        for (auto encoding : {wire::GRADIENT_ENCODING_FP32, wire::GRADIENT_ENCODING_FP16, wire::GRADIENT_ENCODING_BF16})
            for (bool zstd : {false, true}) {
                const wire::WorkUnit unit = testing::makeUnit("s", *manifest_, spec_, shards, 0, encoding, zstd);
                const ComputedUnit whole = computer.compute(testing::makeInputs(unit, manifest_, *store_, weights));
                ComputedGradient gradient =
                    computer.computeGradient(testing::makeInputs(unit, manifest_, *store_, weights));
                QVERIFY(gradient.unit.parts.empty());
                QCOMPARE(gradient.encoding, encoding);
                QCOMPARE(gradient.zstd, zstd);
                const ComputedUnit staged = encodeResult(std::move(gradient));
                QVERIFY2(staged.error.isEmpty(), qPrintable(staged.error));
                QCOMPARE(staged.parts.size(), whole.parts.size());
                QVERIFY(!staged.parts.empty());
                for (std::size_t i = 0; i < staged.parts.size(); ++i) {
                    // Equal but for the compute time each reports.
                    wire::SubmitResult a = staged.parts[i], b = whole.parts[i];
                    a.set_compute_ms(0);
                    b.set_compute_ms(0);
                    QCOMPARE(a.SerializeAsString(), b.SerializeAsString());
                }
                std::int64_t stagedBytes = 0;
                for (const wire::SubmitResult& part : staged.parts)
                    stagedBytes += static_cast<std::int64_t>(part.ByteSizeLong());
                QCOMPARE(staged.wireBytes, stagedBytes);
                QCOMPARE(staged.samples, whole.samples);
                QVERIFY(staged.seconds > 0);
            }
        wire::WorkUnit bad = testing::makeUnit("bad", *manifest_, spec_, shards);
        bad.set_model_spec_sha256(std::string(64, 'a'));
        const ComputedUnit failed =
            encodeResult(computer.computeGradient(testing::makeInputs(bad, manifest_, *store_, weights)));
        QVERIFY(failed.error.contains("does not hash to its name"));
        QVERIFY(failed.parts.empty());
    }

    void badUnitsSayWhy_data() {
        QTest::addColumn<int>("flaw");
        QTest::addColumn<QString>("expected");
        QTest::newRow("spec does not hash to its name") << 0 << "does not hash to its name";
        QTest::newRow("shard from the test split") << 1 << "is not in the training split";
        QTest::newRow("another shard in its place") << 2 << "the shard decoded for it is";
        QTest::newRow("weights of another model") << 3 << "";
        QTest::newRow("no manifest") << 4 << "without its dataset's manifest";
        QTest::newRow("a kernel mode from a newer coordinator") << 5 << "kernel mode 7";
    }

    void badUnitsSayWhy() {
        QFETCH(int, flaw);
        QFETCH(QString, expected);
        UnitComputer computer("cpu", 1);
        nn::Model model(nn::ModelSpec::parse(spec_));
        const QByteArray weights = testing::weightsBytes(model);
        auto shards = trainShards(0, 2);
        if (flaw == 1) shards.push_back(manifest_->test.shards.front());
        wire::WorkUnit unit = testing::makeUnit("bad", *manifest_, spec_, shards);
        if (flaw == 0) unit.set_model_spec_sha256(std::string(64, 'a'));
        if (flaw == 5) unit.set_kernel_mode(static_cast<wire::KernelMode>(7));
        UnitInputs in = testing::makeInputs(unit, manifest_, *store_, weights);
        if (flaw == 2) in.shards[1] = in.shards[0];
        if (flaw == 3) {
            nn::Model other(
                nn::ModelSpec::parse(std::string(spec_).replace(spec_.find("\"out\": 16"), 9, "\"out\": 12")));
            in.weights = std::make_shared<const QByteArray>(testing::weightsBytes(other));
        }
        if (flaw == 4) in.manifest.reset();
        const ComputedUnit done = computer.compute(in);
        QVERIFY(!done.error.isEmpty());
        QVERIFY(done.parts.empty());
        QVERIFY2(done.error.contains(expected), qPrintable(done.error));

        // The computer keeps serving: a good unit right after is computed correctly.
        const wire::WorkUnit good = testing::makeUnit("good", *manifest_, spec_, trainShards(0, 2));
        const ComputedUnit ok = computer.compute(testing::makeInputs(good, manifest_, *store_, weights));
        QVERIFY2(ok.error.isEmpty(), qPrintable(ok.error));
        QCOMPARE(testing::decodeResult(ok, 163).gradient, reference(trainShards(0, 2), weights).gradient);
    }

    // A unit's kernel mode is set on the backend before its first kernel and travels back with the
    // result; the next unit's mode is its own (a fast unit after a verifiable one is fast again).
    void eachUnitIsComputedInItsKernelMode() {
        nn::Model model(nn::ModelSpec::parse(spec_));
        const QByteArray weights = testing::weightsBytes(model);
        wire::WorkUnit verifiable = testing::makeUnit("v", *manifest_, spec_, trainShards(0, 2));
        verifiable.set_kernel_mode(wire::KERNEL_MODE_VERIFIABLE);
        UnitComputer one("cpu", 1);
        const ComputedUnit first = one.compute(testing::makeInputs(verifiable, manifest_, *store_, weights));
        QVERIFY2(first.error.isEmpty(), qPrintable(first.error));
        QVERIFY(!first.parts.empty());
        for (const wire::SubmitResult& part : first.parts) QCOMPARE(part.kernel_mode(), wire::KERNEL_MODE_VERIFIABLE);
        // Replayed elsewhere (another thread count), a verifiable unit gives the same bits.
        UnitComputer two("cpu", 2);
        const ComputedUnit replay = two.compute(testing::makeInputs(verifiable, manifest_, *store_, weights));
        QVERIFY2(replay.error.isEmpty(), qPrintable(replay.error));
        QCOMPARE(testing::decodeResult(replay, 163).gradient, testing::decodeResult(first, 163).gradient);

        const wire::WorkUnit fast = testing::makeUnit("f", *manifest_, spec_, trainShards(0, 2));
        const ComputedUnit after = one.compute(testing::makeInputs(fast, manifest_, *store_, weights));
        QVERIFY2(after.error.isEmpty(), qPrintable(after.error));
        for (const wire::SubmitResult& part : after.parts) QCOMPARE(part.kernel_mode(), wire::KERNEL_MODE_FAST);
        QCOMPARE(testing::decodeResult(after, 163).gradient, reference(trainShards(0, 2), weights).gradient);
    }

    void unknownDeviceIsAnError() {
        UnitComputer computer("tpu", 1);
        const DeviceReport report = computer.open();
        QVERIFY(report.error.contains("unknown device"));
    }

    void vulkanFallsBackToTheCpu() {
        // No Vulkan driver reachable: an ICD file that does not exist.
        qputenv("VK_DRIVER_FILES", "/nonexistent/raven_icd.json");
        qputenv("VK_ICD_FILENAMES", "/nonexistent/raven_icd.json");
        UnitComputer computer("vulkan", 1);
        const DeviceReport report = computer.open();
        qunsetenv("VK_DRIVER_FILES");
        qunsetenv("VK_ICD_FILENAMES");
        QVERIFY2(report.error.isEmpty(), qPrintable(report.error));
        QCOMPARE(report.device.backend(), std::string("cpu"));
        QVERIFY2(report.note.contains("computing on the CPU instead"), qPrintable(report.note));
    }
};

QTEST_GUILESS_MAIN(TestUnitComputer)
#include "tst_UnitComputer.moc"
