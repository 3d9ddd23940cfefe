// Model: forward, loss and every parameter gradient equal PyTorch's on the same weights and inputs
// (the shipped examples and a spec using the remaining layer kinds); seeded initialisation;
// checkpoints round-trip with the optimizer state.
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "autograd/Ops.h"
#include "base/Error.h"
#include "checkpoint/SafeTensors.h"
#include "nn/Model.h"
#include "nn/ModelCheckpoint.h"
#include "nn/TorchPeer.h"
#include "tensor/Random.h"

using namespace raven;
using namespace raven::nn;

namespace {

const char* kZoo = R"({
  "name": "zoo",
  "input": {"shape": [4, 9, 9]},
  "layers": [
    {"name": "conv", "kind": "conv2d", "out_channels": 6, "kernel_size": [3, 2], "stride": 2, "padding": 1, "groups": 2, "bias": false},
    {"name": "bn", "kind": "batch_norm"},
    {"name": "act", "kind": "tanh"},
    {"name": "pool", "kind": "avg_pool2d", "kernel_size": 2, "stride": 1, "padding": 1, "count_include_pad": false},
    {"name": "dil", "kind": "conv2d", "out_channels": 3, "kernel_size": 2, "dilation": 2, "bias": false},
    {"name": "mp", "kind": "max_pool2d", "kernel_size": 2, "stride": 1},
    {"name": "flat", "kind": "flatten"},
    {"name": "ln", "kind": "layer_norm"},
    {"name": "res", "kind": "residual", "layers": [
      {"name": "fc", "kind": "linear", "out": 7},
      {"name": "act", "kind": "sigmoid"},
      {"name": "back", "kind": "linear", "out": 27, "bias": false}
    ]},
    {"name": "bn1", "kind": "batch_norm", "momentum": 0.2},
    {"name": "head", "kind": "linear", "out": 5}
  ],
  "loss": {"kind": "cross_entropy", "label_smoothing": 0.1},
  "init": {"seed": 3}
})";

// Max difference over the largest reference value (at least 1e-3, so that a gradient that is nearly
// zero is not judged by its rounding noise). The zoo's conv has no bias: before a batch norm its
// gradient is zero in exact arithmetic and pure rounding noise in both frameworks.
double relativeError(const std::vector<float>& ours, const std::vector<float>& ref) {
    double diff = 0.0, scale = 1e-3;
    for (size_t i = 0; i < ref.size(); ++i) {
        diff = std::max(diff, std::fabs(static_cast<double>(ours[i]) - ref[i]));
        scale = std::max(scale, std::fabs(static_cast<double>(ref[i])));
    }
    return diff / scale;
}

}  // namespace

// One case: a spec, a batch size, and the inputs drawn for it (token ids for a language model).
struct Inputs {
    Shape xShape, yShape;
    std::vector<float> x, y;
};

Inputs inputsFor(const Model& model, int batch) {
    Inputs in;
    Generator gen(11);
    in.xShape = {batch};
    for (auto s : model.architecture().inputShape()) in.xShape.push_back(s);
    const Shape out = model.architecture().outputShape();
    const bool lm = out.size() == 2;
    const int64_t classes = out.back();
    in.x.resize(static_cast<size_t>(numelOf(in.xShape)));
    for (float& v : in.x)
        v = lm ? static_cast<float>(gen.nextBelow(static_cast<uint64_t>(classes)))
               : static_cast<float>(gen.nextNormal());
    in.yShape = {batch};
    if (lm) in.yShape.push_back(out[0]);
    in.y.resize(static_cast<size_t>(numelOf(in.yShape)));
    for (float& v : in.y) v = static_cast<float>(gen.nextBelow(static_cast<uint64_t>(classes)));
    return in;
}

struct Case {
    const char* name;
    QString spec;  // a file under examples/, or "zoo"
    int batch;
};
const std::vector<Case> kCases{
    {"mlp", "mlp.json", 5}, {"cnn", "cnn.json", 3}, {"transformer", "transformer.json", 2}, {"zoo", "zoo", 4}};

class TestModel : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

    QString specPath(const Case& c) const {
        return c.spec == "zoo" ? dir_.filePath("zoo.json") : nntest::sourceDir() + "/examples/" + c.spec;
    }
    QString file(const Case& c, const char* what) const { return dir_.filePath(QString(c.name) + "." + what); }

private slots:
    // Writes every case's weights and inputs, then runs PyTorch once on all of them (a torch start
    // costs seconds); the rows of matchesTorch compare.
    void initTestCase() {
        if (nntest::torchPython().isEmpty()) return;  // matchesTorch QSKIPs
        QFile zoo(dir_.filePath("zoo.json"));
        QVERIFY(zoo.open(QIODevice::WriteOnly));
        zoo.write(kZoo);
        zoo.close();
        QJsonArray jobs;
        for (const Case& c : kCases) {
            Model model(ModelSpec::load(specPath(c).toStdString()));
            SafeTensors weights;
            for (const auto& [name, tensor] : model.stateDict())
                weights.putFloat32(name, tensor.shape(), tensor.toVector());
            weights.write(file(c, "weights").toStdString());
            const Inputs in = inputsFor(model, c.batch);
            SafeTensors inputs;
            inputs.putFloat32("x", in.xShape, in.x);
            inputs.putFloat32("y", in.yShape, in.y);
            inputs.write(file(c, "inputs").toStdString());
            jobs.append(QJsonArray{specPath(c), file(c, "weights"), file(c, "inputs"), file(c, "ref")});
        }
        QFile jobFile(dir_.filePath("jobs.json"));
        QVERIFY(jobFile.open(QIODevice::WriteOnly));
        jobFile.write(QJsonDocument(jobs).toJson());
        jobFile.close();
        bool ok = false;
        nntest::runPeer("torch_models.py", {"batch", jobFile.fileName()}, &ok);
        QVERIFY(ok);
    }

    void matchesTorch_data() {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < kCases.size(); ++i) QTest::newRow(kCases[i].name) << static_cast<int>(i);
    }

    void matchesTorch() {
        REQUIRE_TORCH();
        QFETCH(int, index);
        const Case& c = kCases[static_cast<size_t>(index)];
        Model model(ModelSpec::load(specPath(c).toStdString()));
        const Inputs in = inputsFor(model, c.batch);
        const Variable logits = model.forward(fromVector(in.xShape, in.x));
        const Variable loss = model.loss(logits, fromVector(in.yShape, in.y));
        loss.backward();
        const SafeTensors ref = SafeTensors::read(file(c, "ref").toStdString());
        QVERIFY2(relativeError(logits.toVector(), ref.toFloat32("logits")) < 1e-4, "logits differ");
        QVERIFY2(relativeError({loss.item()}, ref.toFloat32("loss")) < 1e-5, "loss differs");
        for (const NamedVariable& p : model.parameters()) {
            QVERIFY2(p.value.hasGrad(), p.name.c_str());
            const double err = relativeError(p.value.grad().toVector(), ref.toFloat32("grad." + p.name));
            QVERIFY2(err < 1e-4, qPrintable(QString("%1: relative error %2").arg(p.name.c_str()).arg(err)));
        }
    }

    void initIsSeededAndFollowsPyTorch() {
        const std::string path = (nntest::sourceDir() + "/examples/mlp.json").toStdString();
        Model a(ModelSpec::load(path)), b(ModelSpec::load(path));
        QCOMPARE(a.parameter("fc1.weight").toVector(), b.parameter("fc1.weight").toVector());
        b.initialize(99);
        QVERIFY(a.parameter("fc1.weight").toVector() != b.parameter("fc1.weight").toVector());
        // kaiming_uniform(a=sqrt(5)): U(+-1/sqrt(784)); its standard deviation is bound/sqrt(3).
        const std::vector<float> w = a.parameter("fc1.weight").toVector();
        const double bound = 1.0 / std::sqrt(784.0);
        double sq = 0.0;
        for (float v : w) {
            QVERIFY(std::fabs(v) <= bound);
            sq += static_cast<double>(v) * v;
        }
        QVERIFY(std::fabs(std::sqrt(sq / static_cast<double>(w.size())) / (bound / std::sqrt(3.0)) - 1.0) < 0.02);
        const std::vector<float> bias = a.parameter("fc1.bias").toVector();
        QVERIFY(std::all_of(bias.begin(), bias.end(), [&](float v) { return std::fabs(v) <= bound; }));
    }

    void dropoutTrainsAndEvaluates() {
        Model model(ModelSpec::parse(
            R"({"input": {"shape": [1000]}, "layers": [{"name": "d", "kind": "dropout", "p": 0.25}]})"));
        const Tensor x = ones({4, 1000});
        const std::vector<float> y = model.forward(x).toVector();
        const auto dropped = std::count(y.begin(), y.end(), 0.0f);
        QVERIFY(dropped > 800 && dropped < 1200);  // 25% of 4000
        for (float v : y) QVERIFY(v == 0.0f || std::fabs(v - 1.0f / 0.75f) < 1e-6f);
        QVERIFY(model.forward(x).toVector() != y);  // a fresh mask per call
        model.eval();
        QCOMPARE(model.forward(x).toVector(), x.toVector());
    }

    void wrongInputIsAnError() {
        Model model(ModelSpec::load((nntest::sourceDir() + "/examples/mlp.json").toStdString()));
        QVERIFY_THROWS_EXCEPTION(raven::Error, model.forward(zeros({2, 784})));
        QVERIFY_THROWS_EXCEPTION(raven::Error, model.parameter("fc9.weight"));
    }

    void checkpointRoundTrip() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("mlp.safetensors").toStdString();
        Model model(ModelSpec::load((nntest::sourceDir() + "/examples/mlp.json").toStdString()));
        auto optimizer = makeOptimizer(OptimizerConfig::defaults(OptimizerKind::AdamW), model.parameterNames());
        Generator gen(5);
        const Variable loss = model.loss(model.forward(randn({4, 1, 28, 28}, gen)), fromVector({4}, {1, 2, 3, 4}));
        loss.backward();
        optimizer->step(model.parameterTensors(), model.gradients());
        saveCheckpoint(path, model, optimizer.get());

        const Checkpoint checkpoint = Checkpoint::read(path);
        auto restored = modelFromCheckpoint(checkpoint);
        for (const NamedVariable& p : model.parameters())
            QCOMPARE(restored->parameter(p.name).toVector(), p.value.toVector());
        auto opt2 = optimizerFromCheckpoint(checkpoint, restored->parameterNames());
        QVERIFY(opt2);
        QCOMPARE(opt2->stepCount(), 1);
        QVERIFY(opt2->config().kind == OptimizerKind::AdamW);
        const auto s1 = optimizer->state();
        const auto s2 = opt2->state();
        QCOMPARE(s2.size(), s1.size());
        QCOMPARE(s1.size(), 2 * model.parameters().size());
        for (size_t i = 0; i < s1.size(); ++i) {
            QCOMPARE(s2[i].first, s1[i].first);
            QCOMPARE(s2[i].second.toVector(), s1[i].second.toVector());
        }
        QVERIFY(checkpoint.optimizerState.contains("fc1.weight.exp_avg_sq"));
    }
};

QTEST_GUILESS_MAIN(TestModel)
#include "tst_Model.moc"
