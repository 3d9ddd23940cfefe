// What a result costs on the wire, per sample, for the Fashion-MNIST MLP (examples/mlp.json,
// 235,146 parameters): each gradient encoding with and without zstd, for units of one shard (32
// samples) and of four (128), at the initial weights and after a little training. The table it prints
// is the one in docs/worker.md:  ctest -R worker_bytes_per_sample -V
#include <QFile>
#include <QTest>

#include "UnitFixture.h"
#include "data/IdxImporter.h"
#include "nn/Trainer.h"
#include "training/ShardGradient.h"

using namespace raven;
using namespace raven::worker;

class TestBytesPerSample : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::unique_ptr<data::ShardStore> store_;
    data::Dataset dataset_;
    std::shared_ptr<const data::Manifest> manifest_;
    std::string spec_;

private slots:
    void initTestCase() {
        const QString fm = QStringLiteral("/usr/share/datasets/fashion-mnist");
        if (!QFile::exists(fm + "/t10k-images-idx3-ubyte.gz")) QSKIP("dataset-fashion-mnist is not installed");
        QFile specFile(QString::fromLocal8Bit(qgetenv("RAVEN_SOURCE_DIR")) + "/examples/mlp.json");
        QVERIFY2(specFile.open(QIODevice::ReadOnly), "examples/mlp.json (RAVEN_SOURCE_DIR)");
        spec_ = specFile.readAll().toStdString();
        // The test split alone (10,000 images) reads in a moment; its first 1,024 make the units.
        const data::IdxFiles files = data::findIdxFiles(fm);
        data::Samples all = data::readIdxSamples(files.testImages, files.testLabels, &dataset_.elementType);
        dataset_.name = "fashion-mnist-sample";
        dataset_.classes = data::numberedClasses(10);
        dataset_.train = all.slice(0, 1024);
        dataset_.test = all.slice(1024, 256);
        dataset_.normalization = data::Normalization::fit(dataset_.train, data::NormalizationKind::PerChannel);
        store_ = std::make_unique<data::ShardStore>(dir_.path());
        manifest_ = std::make_shared<const data::Manifest>(data::publishDataset(dataset_, *store_, 32));
    }

    void table() {
        UnitComputer computer("cpu", 0);
        nn::Model model(nn::ModelSpec::parse(spec_));
        const auto parameters = static_cast<std::uint64_t>(training::parameterCount(model));
        QCOMPARE(parameters, std::uint64_t(235146));
        const QByteArray initial = testing::weightsBytes(model);
        nn::TrainOptions options;
        options.epochs = 2;
        options.evaluateEachEpoch = false;
        nn::Trainer(model, dataset_, options).run();
        const QByteArray trained = testing::weightsBytes(model);

        qInfo("%-8s %-8s %-5s %8s %14s %16s", "weights", "encoding", "zstd", "samples", "bytes/unit", "bytes/sample");
        for (const auto& [weightsName, weights] : {std::pair{"initial", &initial}, std::pair{"trained", &trained}}) {
            for (std::size_t shards : {std::size_t(1), std::size_t(4)}) {
                const std::vector<data::ShardRef> refs(
                    manifest_->train.shards.begin(),
                    manifest_->train.shards.begin() + static_cast<std::ptrdiff_t>(shards));
                std::int64_t fp32Raw = 0;
                std::vector<float> fp32Gradient;
                for (auto encoding : {wire::GRADIENT_ENCODING_FP32, wire::GRADIENT_ENCODING_FP16,
                                      wire::GRADIENT_ENCODING_BF16, wire::GRADIENT_ENCODING_INT8_BLOCK}) {
                    for (bool zstd : {false, true}) {
                        // Version 0 is the initial weights, version 1 the trained ones.
                        const std::uint64_t version = weights == &initial ? 0 : 1;
                        const wire::WorkUnit unit =
                            testing::makeUnit("b", *manifest_, spec_, refs, version, encoding, zstd);
                        const ComputedUnit done =
                            computer.compute(testing::makeInputs(unit, manifest_, *store_, *weights));
                        QVERIFY2(done.error.isEmpty(), qPrintable(done.error));
                        const std::vector<float> decoded = testing::decodeResult(done, parameters).gradient;
                        QCOMPARE(decoded.size(), parameters);
                        if (encoding == wire::GRADIENT_ENCODING_FP32) fp32Gradient = decoded;
                        // int8: the bytes a verifier makes from the same fp32 gradient with the unit's key.
                        if (encoding == wire::GRADIENT_ENCODING_INT8_BLOCK)
                            QVERIFY(decoded == protocol::roundTripGradient(fp32Gradient, encoding,
                                                                           protocol::unitRoundingKey(unit)));
                        const double perSample =
                            static_cast<double>(done.wireBytes) / static_cast<double>(done.samples);
                        qInfo("%-8s %-8s %-5s %8lld %14lld %16.0f", weightsName,
                              wire::GradientEncoding_Name(encoding).substr(18).c_str(), zstd ? "yes" : "no",
                              static_cast<long long>(done.samples), static_cast<long long>(done.wireBytes), perSample);
                        const auto raw =
                            static_cast<std::int64_t>(protocol::encodedGradientBytes(encoding, parameters));
                        if (encoding == wire::GRADIENT_ENCODING_FP32 && !zstd) fp32Raw = done.wireBytes;
                        // The values plus a few hundred bytes of framing; zstd never costs more than a little.
                        if (!zstd) QVERIFY(done.wireBytes >= raw && done.wireBytes < raw + 1024);
                        if (zstd) QVERIFY(done.wireBytes < raw + 2048);
                    }
                }
                QVERIFY(fp32Raw > 0);
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestBytesPerSample)
#include "tst_BytesPerSample.moc"
