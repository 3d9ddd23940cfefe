// Raven checkpoints: parameters and optimizer state split by prefix, metadata round-trips, and a
// file that is not a checkpoint of this Raven's version is refused with a clear message. Weights
// down as int8 deltas (checkpoint/WeightsDelta.h): the published lineage over several versions is
// rebuilt bit for bit from the deltas alone, equals a reference computed here, keeps W - P within one
// rounding step, takes about a quarter of the bytes, and broken deltas are refused.
#include <QTemporaryDir>
#include <QtTest>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>

#include "base/Error.h"
#include "checkpoint/Checkpoint.h"
#include "checkpoint/WeightsDelta.h"
#include "tensor/BlockInt8.h"

using raven::Checkpoint;
using raven::SafeTensors;
using raven::safetensors::DType;

namespace {

const std::string kSpec = R"({"input": [784], "layers": [{"type": "linear", "name": "fc1", "out": 2}]})";

Checkpoint sampleCheckpoint() {
    Checkpoint checkpoint;
    checkpoint.spec = kSpec;
    checkpoint.optimizer = R"({"type": "adam", "lr": 0.001, "betas": [0.9, 0.999]})";
    checkpoint.step = 123;
    const std::vector<float> weight{0.5f, -1.0f, 2.0f, 0.25f};
    const std::vector<float> bias{0.1f, -0.2f};
    checkpoint.parameters.putFloat32("fc1.weight", {2, 2}, weight);
    checkpoint.parameters.putFloat32("fc1.bias", {2}, bias, DType::BF16);
    checkpoint.optimizerState.putFloat32(Checkpoint::optimizerStateName("fc1.weight", "exp_avg"), {2, 2}, weight);
    checkpoint.optimizerState.putFloat32(Checkpoint::optimizerStateName("fc1.weight", "exp_avg_sq"), {2, 2}, weight);
    checkpoint.extraMetadata["job"] = "fashion-mlp";
    return checkpoint;
}

// Calls `body` and returns the raven::Error it throws (failing the test if it throws none).
template <typename Body>
raven::Error errorFrom(Body body) {
    try {
        body();
    } catch (const raven::Error& error) {
        return error;
    }
    return raven::Error("no error was thrown");
}

// A weights-only file of a 64x100 layer and its 10 biases (two tensors, blocks across their border).
Checkpoint weightsAt(std::int64_t step, const std::vector<float>& values) {
    Checkpoint c;
    c.spec = kSpec;
    c.step = step;
    c.parameters.putFloat32("fc1.weight", {64, 100}, std::span<const float>(values.data(), 6400));
    c.parameters.putFloat32("fc1.bias", {10}, std::span<const float>(values.data() + 6400, 10));
    return c;
}

// The values of a weights file in the delta's order (tensors by name: fc1.bias, then fc1.weight).
std::vector<float> valuesOf(const std::vector<std::byte>& file) {
    const Checkpoint c = Checkpoint::fromSafeTensors(SafeTensors::fromBytes(file, "weights"), "weights");
    std::vector<float> out = c.parameters.toFloat32("fc1.bias");
    const std::vector<float> w = c.parameters.toFloat32("fc1.weight");
    out.insert(out.end(), w.begin(), w.end());
    return out;
}

std::vector<float> inDeltaOrder(const std::vector<float>& values) {
    std::vector<float> out(values.begin() + 6400, values.end());
    out.insert(out.end(), values.begin(), values.begin() + 6400);
    return out;
}

bool sameFloatBits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

class CheckpointTest : public QObject {
    Q_OBJECT
private slots:
    // Six versions of a drifting W: the worker's rebuild from P(0) and the deltas alone equals the
    // coordinator's P byte for byte; P equals a reference (the test's own subtraction, codec and sum,
    // each rounded once through volatile); W - P stays within one int8 step of each block's last delta.
    void weightsDeltasRebuildThePublishedLineage() {
        std::mt19937 random(7);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        std::vector<float> w(6410);
        for (float& v : w) v = 0.05f * normal(random);
        std::vector<std::byte> published = weightsAt(0, w).toSafeTensors().toBytes();  // P(0): W(0), whole
        std::vector<std::byte> worker = published;
        for (std::int64_t v = 1; v <= 6; ++v) {
            for (std::size_t i = 0; i < w.size(); ++i) w[i] += (i % 3 == 0 ? 1e-2f : 1e-4f) * normal(random);
            const std::uint64_t key = 0x5eedull * static_cast<std::uint64_t>(v);
            const std::vector<float> before = valuesOf(published);
            const raven::PublishedStep next = raven::publishWeights(published, weightsAt(v, w), key);
            // The reference: the difference, its int8 form with the same key, and the sum, by hand.
            std::vector<float> difference(before.size());
            const std::vector<float> target = inDeltaOrder(w);
            for (std::size_t i = 0; i < difference.size(); ++i) {
                volatile float d = target[i] - before[i];
                difference[i] = d;
            }
            const std::vector<std::byte> delta = raven::encodeBlockInt8(difference, key);
            QVERIFY(delta == next.delta);
            const std::vector<float> step = raven::decodeBlockInt8(delta, difference.size());
            std::vector<float> expected(before.size());
            for (std::size_t i = 0; i < expected.size(); ++i) {
                volatile float sum = before[i] + step[i];
                expected[i] = sum;
            }
            QVERIFY2(sameFloatBits(valuesOf(next.published), expected), "P(v) is not P(v - 1) + dequant(delta)");
            // Error feedback: what P still lacks of W is under one step of the block's scale.
            const std::vector<float> p = valuesOf(next.published);
            for (std::size_t first = 0; first < p.size(); first += raven::kBlockInt8Values) {
                float scale = 0.0f;
                std::memcpy(&scale, delta.data() + (first / raven::kBlockInt8Values) * (raven::kBlockInt8Values + 4),
                            4);
                for (std::size_t i = first; i < std::min(p.size(), first + raven::kBlockInt8Values); ++i)
                    QVERIFY2(std::fabs(target[i] - p[i]) <= 1.01f * scale,
                             qPrintable(QStringLiteral("version %1 value %2: W - P = %3, scale %4")
                                            .arg(v)
                                            .arg(i)
                                            .arg(target[i] - p[i])
                                            .arg(scale)));
            }
            // The worker: the delta alone turns its P(v - 1) into the coordinator's P(v), byte for byte.
            worker = raven::applyWeightsDelta(worker, next.delta, v);
            QVERIFY2(worker == next.published, qPrintable(QStringLiteral("version %1 rebuilt differs").arg(v)));
            QCOMPARE(Checkpoint::fromSafeTensors(SafeTensors::fromBytes(worker, "w"), "w").step, v);
            // About a quarter of the whole weights' bytes go down.
            const double ratio = static_cast<double>(next.delta.size()) / static_cast<double>(next.published.size());
            if (v == 1)
                qInfo("delta %zu bytes, whole weights %zu bytes: %.4f", next.delta.size(), next.published.size(),
                      ratio);
            QVERIFY(ratio > 0.24 && ratio < 0.26);
            published = next.published;
        }
        QVERIFY(!sameFloatBits(valuesOf(published), inDeltaOrder(w)));  // P is W's published shadow, not W
    }

    void brokenWeightsDeltasAreRefused() {
        std::vector<float> w(6410, 0.5f);
        const std::vector<std::byte> base = weightsAt(3, w).toSafeTensors().toBytes();
        w[17] = 0.75f;
        const raven::PublishedStep next = raven::publishWeights(base, weightsAt(4, w), 1);
        QVERIFY(raven::applyWeightsDelta(base, next.delta, 4) == next.published);
        // Short by a byte; to the wrong version; a -128; a NaN scale; a scale that overflows the sum.
        std::vector<std::byte> shortDelta(next.delta.begin(), next.delta.end() - 1);
        QVERIFY(errorFrom([&] { raven::applyWeightsDelta(base, shortDelta, 4); }).message().find("does not hold") !=
                std::string::npos);
        QVERIFY(errorFrom([&] { raven::applyWeightsDelta(base, next.delta, 5); }).message().find("version 3") !=
                std::string::npos);
        std::vector<std::byte> minus128 = next.delta;
        minus128[4 + 3] = std::byte{0x80};
        QVERIFY(errorFrom([&] { raven::applyWeightsDelta(base, minus128, 4); }).message().find("-128") !=
                std::string::npos);
        std::vector<std::byte> nanScale = next.delta;
        const float nan = std::nanf("");
        std::memcpy(nanScale.data(), &nan, 4);
        QVERIFY(errorFrom([&] { raven::applyWeightsDelta(base, nanScale, 4); }).message().find("scale") !=
                std::string::npos);
        std::vector<float> huge(6410, FLT_MAX);
        const std::vector<std::byte> hugeBase = weightsAt(3, huge).toSafeTensors().toBytes();
        std::vector<std::byte> overflow = next.delta;
        const float big = FLT_MAX / 128.0f;
        std::memcpy(overflow.data(), &big, 4);
        overflow[4] = std::byte{127};
        QVERIFY(errorFrom([&] { raven::applyWeightsDelta(hugeBase, overflow, 4); }).message().find("overflow") !=
                std::string::npos);
        // A checkpoint with optimizer state is not a weights file.
        Checkpoint withOptimizer = weightsAt(3, w);
        withOptimizer.optimizer = R"({"type": "adam", "lr": 0.001})";
        withOptimizer.optimizerState.putFloat32(Checkpoint::optimizerStateName("fc1.bias", "exp_avg"), {10},
                                                std::vector<float>(10, 0.0f));
        QVERIFY(errorFrom([&] { raven::applyWeightsDelta(withOptimizer.toSafeTensors().toBytes(), next.delta, 4); })
                    .message()
                    .find("optimizer state") != std::string::npos);
    }

    void roundTrip() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("mlp.safetensors").toStdString();
        const Checkpoint original = sampleCheckpoint();
        original.write(path);

        // The file itself: PyTorch names, prefixed state, the documented metadata.
        const SafeTensors raw = SafeTensors::read(path);
        QCOMPARE(raw.size(), std::size_t(4));
        QVERIFY(raw.contains("fc1.weight"));
        QVERIFY(raw.contains("optimizer.state.fc1.weight.exp_avg"));
        QCOMPARE(raw.metadata.at("format"), std::string("raven-checkpoint"));
        QCOMPARE(raw.metadata.at("version"), std::string("1"));
        QCOMPARE(raw.metadata.at("step"), std::string("123"));
        QCOMPARE(raw.metadata.at("spec"), kSpec);

        const Checkpoint loaded = Checkpoint::read(path);
        QCOMPARE(loaded.spec, original.spec);
        QCOMPARE(loaded.optimizer, original.optimizer);
        QCOMPARE(loaded.step, std::int64_t(123));
        QCOMPARE(loaded.extraMetadata, original.extraMetadata);
        QCOMPARE(loaded.parameters.size(), std::size_t(2));
        QCOMPARE(loaded.optimizerState.size(), std::size_t(2));
        QCOMPARE(loaded.parameters.toFloat32("fc1.weight"), original.parameters.toFloat32("fc1.weight"));
        QCOMPARE(loaded.parameters.at("fc1.bias").dtype, DType::BF16);
        QCOMPARE(loaded.optimizerState.toFloat32("fc1.weight.exp_avg_sq"),
                 original.optimizerState.toFloat32("fc1.weight.exp_avg_sq"));
    }

    void weightsWithoutOptimizer() {
        Checkpoint checkpoint;
        checkpoint.spec = kSpec;
        const std::vector<float> w{1, 2};
        checkpoint.parameters.putFloat32("fc1.bias", {2}, w);
        const Checkpoint back = Checkpoint::fromSafeTensors(checkpoint.toSafeTensors(), "memory");
        QVERIFY(back.optimizer.empty());
        QCOMPARE(back.step, std::int64_t(0));
        QVERIFY(!checkpoint.toSafeTensors().metadata.contains("optimizer"));
    }

    void newerVersionAsksForAnUpgrade() {
        SafeTensors tensors = sampleCheckpoint().toSafeTensors();
        tensors.metadata["version"] = "2";
        const raven::Error error = errorFrom([&] { Checkpoint::fromSafeTensors(tensors, "future.safetensors"); });
        QVERIFY2(error.message().find("future.safetensors") != std::string::npos, error.what());
        QVERIFY2(error.message().find("newer Raven") != std::string::npos, error.what());
        QVERIFY2(error.hint().find("upgrade Raven") != std::string::npos, error.what());
    }

    void invalidMetadataIsRefused_data() {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value");  // "<remove>" drops the key
        QTest::addColumn<QString>("mention");
        QTest::newRow("plain weights") << "format"
                                       << "<remove>"
                                       << "no \"format\"";
        QTest::newRow("other format") << "format"
                                      << "pt"
                                      << "format \"pt\"";
        QTest::newRow("version missing") << "version"
                                         << "<remove>"
                                         << "\"version\"";
        QTest::newRow("version not a number") << "version"
                                              << "one"
                                              << "\"version\"";
        QTest::newRow("spec missing") << "spec"
                                      << "<remove>"
                                      << "\"spec\"";
        QTest::newRow("spec not JSON") << "spec"
                                       << "{layers"
                                       << "\"spec\"";
        QTest::newRow("step negative") << "step"
                                       << "-4"
                                       << "\"step\"";
        QTest::newRow("step not a number") << "step"
                                           << "12x"
                                           << "\"step\"";
        QTest::newRow("optimizer missing beside state") << "optimizer"
                                                        << "<remove>"
                                                        << "optimizer state";
        QTest::newRow("optimizer not JSON") << "optimizer"
                                            << "adam"
                                            << "\"optimizer\"";
    }
    void invalidMetadataIsRefused() {
        QFETCH(QString, key);
        QFETCH(QString, value);
        QFETCH(QString, mention);
        SafeTensors tensors = sampleCheckpoint().toSafeTensors();
        if (value == "<remove>")
            tensors.metadata.erase(key.toStdString());
        else
            tensors.metadata[key.toStdString()] = value.toStdString();
        const raven::Error error = errorFrom([&] { Checkpoint::fromSafeTensors(tensors, "odd.safetensors"); });
        QVERIFY2(error.message().find("'odd.safetensors'") != std::string::npos, error.what());
        QVERIFY2(error.message().find(mention.toStdString()) != std::string::npos, error.what());
        QVERIFY(!error.hint().empty());
    }

    void invalidCheckpointsAreNotWritten() {
        Checkpoint reserved = sampleCheckpoint();
        const std::vector<float> one{1};
        reserved.parameters.putFloat32("optimizer.state.x", {1}, one);
        QVERIFY(errorFrom([&] { reserved.toSafeTensors(); }).message().find("reserve") != std::string::npos);

        Checkpoint noSpec = sampleCheckpoint();
        noSpec.spec.clear();
        QVERIFY_THROWS_EXCEPTION(raven::Error, noSpec.toSafeTensors());

        Checkpoint stateWithoutOptimizer = sampleCheckpoint();
        stateWithoutOptimizer.optimizer.clear();
        QVERIFY_THROWS_EXCEPTION(raven::Error, stateWithoutOptimizer.toSafeTensors());

        Checkpoint negativeStep = sampleCheckpoint();
        negativeStep.step = -1;
        QVERIFY_THROWS_EXCEPTION(raven::Error, negativeStep.toSafeTensors());
    }
};

QTEST_APPLESS_MAIN(CheckpointTest)
#include "tst_Checkpoint.moc"
