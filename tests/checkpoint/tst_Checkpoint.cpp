// Raven checkpoints: parameters and optimizer state split by prefix, metadata round-trips, and a
// file that is not a checkpoint of this Raven's version is refused with a clear message.
#include <QTemporaryDir>
#include <QtTest>

#include "base/Error.h"
#include "checkpoint/Checkpoint.h"

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

}  // namespace

class CheckpointTest : public QObject {
    Q_OBJECT
private slots:
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
