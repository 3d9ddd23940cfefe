// Trainer: a few hundred steps on a Fashion-MNIST subset make the loss fall and the accuracy rise well
// above chance; a tiny transformer learns a repetitive text below its unigram entropy.
#include <QDir>
#include <QtTest>

#include <cmath>
#include <map>

#include "base/Error.h"
#include "data/IdxImporter.h"
#include "data/TextCorpusImporter.h"
#include "nn/Trainer.h"

using namespace raven;
using namespace raven::nn;

class TestTrainer : public QObject {
    Q_OBJECT

private slots:
    void mlpLearnsFashionMnistSubset() {
        const QString dir = "/usr/share/datasets/fashion-mnist";
        if (!QDir(dir).exists()) QSKIP("Fashion-MNIST is not installed (package dataset-fashion-mnist)");
        const data::Dataset ds = data::importIdxDirectory(dir);
        Model model(ModelSpec::load(qEnvironmentVariable("RAVEN_SOURCE_DIR", RAVEN_TEST_SOURCE_DIR).toStdString() +
                                    "/examples/mlp.json"));
        TrainOptions options;
        options.epochs = 100;
        options.maxSteps = 300;
        options.batchSize = 64;
        options.trainSamples = 6400;
        options.evalSamples = 2000;
        options.progressInterval = 25;
        options.evaluateEachEpoch = false;
        Trainer trainer(model, ds, options);
        std::vector<double> losses;
        trainer.onProgress = [&](const TrainProgress& p) {
            losses.push_back(p.loss);
            QVERIFY(p.samplesPerSecond > 0.0);
            QCOMPARE(p.epochSize, 6400);
        };
        const EvalResult before = trainer.evaluate(ds.test, 2000);
        const TrainSummary summary = trainer.run();
        QCOMPARE(summary.steps, 300);
        QCOMPARE(summary.epochs.size(), size_t(3));
        QVERIFY(losses.size() >= 10);
        const EvalResult after = trainer.evaluate(ds.test, 2000);
        qInfo("loss %.3f -> %.3f, test accuracy %.3f -> %.3f on 2000 samples, %.0f samples/s", losses.front(),
              losses.back(), before.accuracy, after.accuracy, summary.samplesPerSecond);
        QVERIFY(losses.back() < 0.6 * losses.front());
        QVERIFY(after.loss < before.loss);
        QVERIFY(after.accuracy > 0.7);  // chance is 0.1
    }

    // The full measurement (minutes): RAVEN_NN_FULL_TRAINING=<epochs> trains examples/mlp.json (or
    // RAVEN_NN_FULL_MODEL, e.g. cnn.json) on all of Fashion-MNIST with Adam lr 1e-3, batch 128, and
    // requires the issue's test accuracy: 88% for the MLP, 90% for the CNN. QtTest stops a function after
    // 5 minutes: set QTEST_FUNCTION_TIMEOUT (milliseconds) for longer runs.
    void fullFashionMnist() {
        const int epochs = qEnvironmentVariableIntValue("RAVEN_NN_FULL_TRAINING");
        if (epochs <= 0) QSKIP("set RAVEN_NN_FULL_TRAINING=<epochs> for the full Fashion-MNIST run");
        const QString example = qEnvironmentVariable("RAVEN_NN_FULL_MODEL", "mlp.json");
        const data::Dataset ds = data::importIdxDirectory("/usr/share/datasets/fashion-mnist");
        Model model(ModelSpec::load(qEnvironmentVariable("RAVEN_SOURCE_DIR", RAVEN_TEST_SOURCE_DIR).toStdString() +
                                    "/examples/" + example.toStdString()));
        TrainOptions options;
        options.epochs = epochs;
        Trainer trainer(model, ds, options);
        trainer.onEpoch = [](const EpochSummary& e) {
            qInfo("epoch %d: train loss %.4f, test loss %.4f, test accuracy %.4f, %.0f samples/s", e.epoch + 1,
                  e.trainLoss, e.test->loss, e.test->accuracy, e.samplesPerSecond);
        };
        const TrainSummary summary = trainer.run();
        qInfo("overall %.0f samples/s", summary.samplesPerSecond);
        QVERIFY(summary.test->accuracy >= (example.startsWith("cnn") ? 0.90 : 0.88));
    }

    void transformerLearnsText() {
        // "abcabd..." : the next character is predictable from the context, far below the unigram entropy.
        QByteArray text;
        for (int i = 0; i < 400; ++i) text += (i % 2 ? "the cat sat. " : "a dog ran! ");
        data::TextCorpusImportOptions importOptions;
        importOptions.contextLength = 16;
        const data::Dataset ds = data::textCorpusDataset(text, "test text", importOptions);
        const int vocabulary = static_cast<int>(ds.classes.size());
        std::map<int, double> counts;
        for (int32_t id : ds.train.allLabels()) counts[id] += 1.0;
        double entropy = 0.0;
        for (const auto& [id, c] : counts) {
            const double p = c / static_cast<double>(ds.train.allLabels().size());
            entropy -= p * std::log(p);
        }
        const std::string spec = R"({"input": {"shape": [16]}, "layers": [
            {"name": "tok", "kind": "embedding", "num_embeddings": )" +
                                 std::to_string(vocabulary) + R"(, "dim": 32},
            {"name": "pos", "kind": "positional_embedding", "max_length": 16},
            {"name": "attn", "kind": "residual", "layers": [{"name": "ln", "kind": "layer_norm"},
                {"name": "sa", "kind": "self_attention", "heads": 2}]},
            {"name": "mlp", "kind": "residual", "layers": [{"name": "ln", "kind": "layer_norm"},
                {"name": "fc", "kind": "linear", "out": 64}, {"name": "act", "kind": "gelu"},
                {"name": "proj", "kind": "linear", "out": 32}]},
            {"name": "ln_f", "kind": "layer_norm"},
            {"name": "head", "kind": "linear", "out": )" +
                                 std::to_string(vocabulary) + "}]}";
        Model model(ModelSpec::parse(spec, "tiny-lm"));
        TrainOptions options;
        options.epochs = 100;
        options.maxSteps = 150;
        options.batchSize = 16;
        options.optimizer.lr = 3e-3;
        options.evaluateEachEpoch = false;
        Trainer trainer(model, ds, options);
        trainer.run();
        const EvalResult result = trainer.evaluate(ds.test);
        qInfo("unigram entropy %.3f nats, test loss %.3f, accuracy %.3f", entropy, result.loss, result.accuracy);
        QVERIFY(result.loss < 0.5 * entropy);
    }

    void mismatchedDatasetIsAnError() {
        data::TextCorpusImportOptions importOptions;
        importOptions.contextLength = 8;
        const data::Dataset ds = data::textCorpusDataset(QByteArray(200, 'x'), "x", importOptions);
        Model model(ModelSpec::load(qEnvironmentVariable("RAVEN_SOURCE_DIR", RAVEN_TEST_SOURCE_DIR).toStdString() +
                                    "/examples/mlp.json"));
        QVERIFY_THROWS_EXCEPTION(raven::Error, [&] { Trainer trainer(model, ds, TrainOptions{}); }());
    }
};

QTEST_GUILESS_MAIN(TestTrainer)
#include "tst_Trainer.moc"
