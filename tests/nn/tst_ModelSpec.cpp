// Model specs: the shipped examples give PyTorch's parameter names, shapes and counts; FLOPs follow
// the documented convention; every spec error names the layer and the field.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include "base/Error.h"
#include "nn/Architecture.h"
#include "nn/ModelSpec.h"
#include "nn/TorchPeer.h"

using namespace raven::nn;

class TestModelSpec : public QObject {
    Q_OBJECT

    QJsonObject torch_;  // torch_models.py's description of every example, keyed by path

    static QString examplePath(const QString& file) { return nntest::sourceDir() + "/examples/" + file; }

private slots:
    void initTestCase() {
        if (nntest::torchPython().isEmpty()) return;  // the comparison QSKIPs
        bool ok = false;
        const QByteArray out = nntest::runPeer(
            "torch_models.py",
            {"describe", examplePath("mlp.json"), examplePath("cnn.json"), examplePath("transformer.json")}, &ok);
        QVERIFY(ok);
        torch_ = QJsonDocument::fromJson(out).object();
    }

    void examplesMatchTorch_data() {
        QTest::addColumn<QString>("example");
        QTest::newRow("mlp") << "mlp.json";
        QTest::newRow("cnn") << "cnn.json";
        QTest::newRow("transformer") << "transformer.json";
    }

    void examplesMatchTorch() {
        REQUIRE_TORCH();
        QFETCH(QString, example);
        const QString path = examplePath(example);
        const Architecture arch(ModelSpec::load(path.toStdString()));
        const QJsonObject torch = torch_[path].toObject();
        auto compare = [](const std::vector<ParameterInfo>& ours, const QJsonArray& theirs) {
            QCOMPARE(static_cast<qsizetype>(ours.size()), theirs.size());
            for (qsizetype i = 0; i < theirs.size(); ++i) {
                const QJsonArray entry = theirs[i].toArray();
                QCOMPARE(QString::fromStdString(ours[static_cast<size_t>(i)].name), entry[0].toString());
                Shape shape;
                for (const QJsonValue& v : entry[1].toArray()) shape.push_back(v.toInteger());
                QCOMPARE(ours[static_cast<size_t>(i)].decl.shape, shape);
            }
        };
        compare(arch.parameters(), torch["parameters"].toArray());
        compare(arch.buffers(), torch["buffers"].toArray());
        QCOMPARE(arch.parameterCount(), torch["count"].toInteger());
    }

    void mlpFlopsFollowTheConvention() {
        const Architecture arch(ModelSpec::load((nntest::sourceDir() + "/examples/mlp.json").toStdString()));
        // Linear: 2 per multiply-add plus the bias; ReLU 1 per element; flatten free.
        const double expected = (2.0 * 784 * 256 + 256) + 256 + (2.0 * 256 * 128 + 128) + 128 + (2.0 * 128 * 10 + 10);
        QCOMPARE(arch.forwardFlopsPerSample(), expected);
        QCOMPARE(arch.trainingFlopsPerSample(), 3.0 * expected);
        QCOMPARE(arch.outputShape(), (Shape{10}));
        QVERIFY(arch.summary().find("fc2") != std::string::npos);
    }

    void cnnAndTransformerFlops() {
        const Architecture cnn(ModelSpec::load((nntest::sourceDir() + "/examples/cnn.json").toStdString()));
        const Layer* conv1 = cnn.layers()[0].get();
        QCOMPARE(conv1->outputShape(), (Shape{32, 28, 28}));
        QCOMPARE(conv1->forwardFlops(), 32.0 * 28 * 28 * (2.0 * 9 + 1));
        QCOMPARE(cnn.layers()[2]->outputShape(), (Shape{32, 14, 14}));
        QCOMPARE(cnn.outputShape(), (Shape{10}));

        const Architecture lm(ModelSpec::load((nntest::sourceDir() + "/examples/transformer.json").toStdString()));
        QCOMPARE(lm.outputShape(), (Shape{64, 128}));
        const Layer* attn = lm.allLayers()[4];
        QCOMPARE(QString::fromStdString(attn->name()), QString("b0_attn.attn"));
        const double t = 64, d = 64, h = 4;
        QCOMPARE(attn->forwardFlops(), 2 * t * d * 3 * d + 2 * t * d * d + 4 * t * d + 4 * t * t * d + 5 * h * t * t);
    }

    void specErrorsNameTheLayerAndField_data() {
        QTest::addColumn<QString>("layers");
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing field") << R"([{"name": "fc", "kind": "linear"}])"
                                       << R"(layers[0] "fc" (linear): field "out": is required)";
        QTest::newRow("bad value") << R"([{"name": "fc", "kind": "linear", "out": -3}])"
                                   << R"(layers[0] "fc" (linear): field "out": must be at least 1)";
        QTest::newRow("not an integer") << R"([{"name": "fc", "kind": "linear", "out": "ten"}])"
                                        << R"(field "out": must be an integer)";
        QTest::newRow("unknown kind") << R"([{"name": "fc", "kind": "lienar", "out": 3}])"
                                      << R"(layers[0] "fc": field "kind": unknown layer kind "lienar")";
        QTest::newRow("typo in a field") << R"([{"name": "r", "kind": "reshape", "shape": [4, 4], "shap": 1}])"
                                         << R"(layers[0] "r" (reshape): unknown field "shap")";
        QTest::newRow("duplicate name")
            << R"([{"name": "a", "kind": "relu"}, {"name": "a", "kind": "tanh"}])"
            << R"(layers[1] "a": field "name": another layer at this level is already called "a")";
        QTest::newRow("missing name") << R"([{"kind": "relu"}])"
                                      << R"(layers[0]: field "name" is required)";
        QTest::newRow("nested")
            << R"([{"name": "res", "kind": "residual", "layers": [{"name": "ok", "kind": "relu"}, {"name": "fc", "kind": "linear", "out": 0}]}])"
            << R"(layers[0] "res" (residual) > layers[1] "fc" (linear): field "out": must be at least 1)";
        QTest::newRow("residual changes shape")
            << R"([{"name": "res", "kind": "residual", "layers": [{"name": "fc", "kind": "linear", "out": 5}]}])"
            << R"(layers[0] "res" (residual): the inner layers turn [16] into [5])";
        QTest::newRow("conv on a vector")
            << R"([{"name": "c", "kind": "conv2d", "out_channels": 4, "kernel_size": 3}])"
            << R"(layers[0] "c" (conv2d): needs a per-sample input [channels, height, width], got [16])";
        QTest::newRow("reshape count") << R"([{"name": "r", "kind": "reshape", "shape": [3, 5]}])"
                                       << R"(layers[0] "r" (reshape): field "shape": cannot reshape the input [16])";
        QTest::newRow("heads")
            << R"([{"name": "r", "kind": "reshape", "shape": [4, 4]}, {"name": "a", "kind": "self_attention", "heads": 3}])"
            << R"(layers[1] "a" (self_attention): field "heads": 3 heads do not divide d_model 4)";
        QTest::newRow("kernel too large")
            << R"([{"name": "r", "kind": "reshape", "shape": [1, 4, 4]}, {"name": "p", "kind": "max_pool2d", "kernel_size": 5}])"
            << R"(layers[1] "p" (max_pool2d): field "kernel_size": is larger than the padded input [1,4,4])";
        // Sizes multiply past 64 bits: each is an error naming the layer, never a wrapped count.
        QTest::newRow("weight overflows")
            << R"([{"name": "fc", "kind": "linear", "out": 9000000000000000}, {"name": "fc2", "kind": "linear", "out": 9000}])"
            << R"(layers[1] "fc2" (linear): the shape [9000,9000000000000000] has more elements than fit in 64 bits)";
        QTest::newRow("conv span overflows")
            << R"([{"name": "r", "kind": "reshape", "shape": [1, 4, 4]}, {"name": "c", "kind": "conv2d", "out_channels": 1, "kernel_size": 9000000000000000, "dilation": 9000000000000000}])"
            << R"(layers[1] "c" (conv2d): 9000000000000000 * 8999999999999999 does not fit in 64 bits)";
        QTest::newRow("parameter total overflows")
            << R"([{"name": "a", "kind": "linear", "out": 9000000000000000}, {"name": "b", "kind": "linear", "out": 1000, "bias": false}, {"name": "c", "kind": "linear", "out": 9000000000000000, "bias": false}])"
            << R"(the parameter count overflows 64 bits)";
        QTest::newRow("layers on a plain layer") << R"([{"name": "a", "kind": "relu", "layers": []}])"
                                                 << R"(only a residual block holds layers)";
    }

    void specErrorsNameTheLayerAndField() {
        QFETCH(QString, layers);
        QFETCH(QString, expected);
        const std::string json = R"({"input": {"shape": [16]}, "layers": )" + layers.toStdString() + "}";
        try {
            Architecture arch(ModelSpec::parse(json, "test.json"));
            QFAIL("no error");
        } catch (const raven::Error& e) {
            const QString message = QString::fromStdString(e.message());
            QVERIFY2(message.startsWith("model spec test.json: "), qPrintable(message));
            QVERIFY2(message.contains(expected), qPrintable(message));
        }
    }

    void inputShapeOverflowIsAnError() {
        try {
            Architecture arch(ModelSpec::parse(
                R"({"input": {"shape": [1000000000, 1000000000, 1000000000]}, "layers": [{"name": "a", "kind": "relu"}]})",
                "big.json"));
            QFAIL("no error");
        } catch (const raven::Error& e) {
            QVERIFY2(QString::fromStdString(e.message()).contains("input: field \"shape\": the shape"), e.what());
            QVERIFY2(QString::fromStdString(e.message()).contains("more elements than fit in 64 bits"), e.what());
            QVERIFY(!e.hint().empty());
        }
    }

    void topLevelErrors_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << R"({"input": )"
                                  << "not valid JSON at byte";
        QTest::newRow("no input") << R"({"layers": [{"name": "a", "kind": "relu"}]})"
                                  << "input: is required";
        QTest::newRow("no layers") << R"({"input": {"shape": [3]}})"
                                   << "layers must be a non-empty list";
        QTest::newRow("smoothing")
            << R"({"input": {"shape": [3]}, "layers": [{"name": "a", "kind": "relu"}], "loss": {"kind": "cross_entropy", "label_smoothing": 1.5}})"
            << R"(loss: field "label_smoothing": must be a number in [0, 1))";
        QTest::newRow("init scheme")
            << R"({"input": {"shape": [3]}, "layers": [{"name": "a", "kind": "relu"}], "init": {"scheme": "glorot"}})"
            << R"(unknown init scheme "glorot")";
        QTest::newRow("unknown key")
            << R"({"input": {"shape": [3]}, "layers": [{"name": "a", "kind": "relu"}], "optimiser": 1})"
            << R"(unknown field "optimiser")";
    }

    void topLevelErrors() {
        QFETCH(QString, json);
        QFETCH(QString, expected);
        try {
            ModelSpec::parse(json.toStdString(), "top.json");
            QFAIL("no error");
        } catch (const raven::Error& e) {
            QVERIFY2(QString::fromStdString(e.message()).contains(expected), e.what());
        }
    }

    void lossAndInitAreRead() {
        const ModelSpec spec = ModelSpec::parse(
            R"({"input": {"shape": [3]}, "layers": [{"name": "a", "kind": "linear", "out": 2, "init": "xavier_uniform"}],
                "loss": {"kind": "cross_entropy", "label_smoothing": 0.1}, "init": {"scheme": "kaiming_normal", "seed": 7}})");
        QCOMPARE(spec.loss.labelSmoothing, 0.1f);
        QCOMPARE(spec.init.seed, 7u);
        QVERIFY(spec.init.scheme == InitScheme::KaimingNormal);
        const Architecture arch(spec);
        QVERIFY(arch.parameters()[0].decl.hasScheme);
        QVERIFY(arch.parameters()[0].decl.scheme == InitScheme::XavierUniform);
    }
};

QTEST_GUILESS_MAIN(TestModelSpec)
#include "tst_ModelSpec.moc"
