// Every CPU kernel against PyTorch (torch.nn.functional in float64) on random inputs: this test writes
// the inputs of each case to a temporary directory, runs torch_reference.py there, reads the reference
// outputs and gradients back and compares them with the kernels' own (float32) results.
// Error measure per output: max |ours - torch| / max |torch|, at most 1e-4.
// Dropout is not here: PyTorch draws its masks from another generator (tst_kernel_contracts checks it).
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <map>

#include "cpu/kernels/Kernels.h"
#include "cpu_kernels/KernelTestUtils.h"

using namespace raven::cpu::kernels;
using raven::test::randomBuffer;

namespace {

struct Input {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> values;  // float32 inputs
    std::vector<int64_t> ints;  // int64 inputs (indices)
};

struct Case {
    std::string name;
    std::string op;
    QJsonObject params;
    std::vector<Input> inputs;
    std::map<std::string, std::vector<float>> ours;
};

size_t elements(const std::vector<int64_t>& shape) {
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    return n;
}

QJsonArray pair(int64_t a, int64_t b) { return QJsonArray{qint64(a), qint64(b)}; }

}  // namespace

class TorchReference : public QObject {
    Q_OBJECT

    std::vector<Case> cases_;
    QTemporaryDir dir_;
    uint32_t seed_ = 100;

    // A random float32 input of the given shape, registered with the case.
    std::vector<float>& input(Case& c, const std::string& name, std::vector<int64_t> shape, float low = -1.0f,
                              float high = 1.0f) {
        c.inputs.push_back({name, shape, randomBuffer(elements(shape), seed_++, low, high), {}});
        return c.inputs.back().values;
    }

    void addConv(const std::string& name, const Conv2dShape& s, bool withBias) {
        Case c{name, "conv2d", {}, {}, {}};
        c.inputs.reserve(4);
        c.params = {{"stride", pair(s.strideH, s.strideW)},
                    {"padding", pair(s.padH, s.padW)},
                    {"dilation", pair(s.dilationH, s.dilationW)},
                    {"groups", qint64(s.groups)}};
        auto& x = input(c, "x", {s.batch, s.inChannels, s.height, s.width});
        auto& w = input(c, "weight", {s.outChannels, s.inChannels / s.groups, s.kernelH, s.kernelW});
        const float* b = withBias ? input(c, "bias", {s.outChannels}).data() : nullptr;
        auto& dy = input(c, "dy", {s.batch, s.outChannels, s.outH(), s.outW()});
        std::vector<float> y(dy.size()), dx(x.size()), dw(w.size()), db(size_t(s.outChannels));
        conv2d_forward(s, x.data(), w.data(), b, y.data(), raven::test::threadedFor(2));
        conv2d_backward(s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), withBias ? db.data() : nullptr,
                        raven::test::threadedFor(2));
        c.ours = {{"y", y}, {"dx", dx}, {"dweight", dw}};
        if (withBias) c.ours["dbias"] = db;
        cases_.push_back(std::move(c));
    }

    void addPool(const std::string& name, const Pool2dShape& s, bool max, bool countIncludePad = true) {
        Case c{name, max ? "max_pool2d" : "avg_pool2d", {}, {}, {}};
        c.inputs.reserve(2);
        c.params = {{"kernel", pair(s.kernelH, s.kernelW)},
                    {"stride", pair(s.strideH, s.strideW)},
                    {"padding", pair(s.padH, s.padW)},
                    {"count_include_pad", countIncludePad}};
        auto& x = input(c, "x", {s.batch, s.channels, s.height, s.width});
        auto& dy = input(c, "dy", {s.batch, s.channels, s.outH(), s.outW()});
        std::vector<float> y(dy.size()), dx(x.size());
        if (max) {
            std::vector<int64_t> argmax(dy.size());
            max_pool2d_forward(s, x.data(), y.data(), argmax.data());
            max_pool2d_backward(s, argmax.data(), dy.data(), dx.data());
            c.ours["argmax"] = std::vector<float>(argmax.begin(), argmax.end());
        } else {
            avg_pool2d_forward(s, x.data(), y.data(), countIncludePad);
            avg_pool2d_backward(s, dy.data(), dx.data(), countIncludePad);
        }
        c.ours["y"] = y;
        c.ours["dx"] = dx;
        cases_.push_back(std::move(c));
    }

    void addLayerNorm(const std::string& name, std::vector<int64_t> shape, int normalizedDims, bool affine) {
        Case c{name, "layer_norm", {}, {}, {}};
        c.inputs.reserve(4);
        const std::vector<int64_t> normalized(shape.end() - normalizedDims, shape.end());
        QJsonArray normalizedJson;
        for (int64_t d : normalized) normalizedJson.append(qint64(d));
        const LayerNormShape s{.rows = int64_t(elements(shape) / elements(normalized)),
                               .features = int64_t(elements(normalized)),
                               .eps = 1e-5f};
        c.params = {{"normalized_shape", normalizedJson}, {"eps", double(s.eps)}};
        auto& x = input(c, "x", shape);
        const float* w = affine ? input(c, "weight", normalized, 0.5f, 1.5f).data() : nullptr;
        const float* b = affine ? input(c, "bias", normalized).data() : nullptr;
        auto& dy = input(c, "dy", shape);
        std::vector<float> y(x.size()), dx(x.size()), dw(size_t(s.features)), db(size_t(s.features));
        std::vector<float> mean(size_t(s.rows)), rstd(size_t(s.rows));
        layer_norm_forward(s, x.data(), w, b, y.data(), mean.data(), rstd.data(), raven::test::threadedFor(3));
        layer_norm_backward(s, x.data(), w, mean.data(), rstd.data(), dy.data(), dx.data(), dw.data(), db.data(),
                            raven::test::threadedFor(3));
        c.ours = {{"y", y}, {"dx", dx}};
        if (affine) {
            c.ours["dweight"] = dw;
            c.ours["dbias"] = db;
        }
        cases_.push_back(std::move(c));
    }

    void addBatchNorm(const std::string& name, std::vector<int64_t> shape, bool training) {
        Case c{name, "batch_norm", {}, {}, {}};
        c.inputs.reserve(6);
        const int64_t spatial = int64_t(elements(shape) / size_t(shape[0] * shape[1]));
        const BatchNormShape s{
            .batch = shape[0], .channels = shape[1], .spatial = spatial, .eps = 1e-5f, .momentum = 0.1f};
        c.params = {{"training", training}, {"momentum", double(s.momentum)}, {"eps", double(s.eps)}};
        auto& x = input(c, "x", shape, -2.0f, 3.0f);
        auto& w = input(c, "weight", {s.channels}, 0.5f, 1.5f);
        auto& b = input(c, "bias", {s.channels});
        auto runningMean = input(c, "running_mean", {s.channels});
        auto runningVar = input(c, "running_var", {s.channels}, 0.5f, 2.0f);
        auto& dy = input(c, "dy", shape);
        std::vector<float> y(x.size()), dx(x.size()), dw(w.size()), db(b.size()), mean(w.size()), invstd(w.size());
        batch_norm_forward(s, training, x.data(), w.data(), b.data(), runningMean.data(), runningVar.data(), y.data(),
                           mean.data(), invstd.data());
        batch_norm_backward(s, training, x.data(), w.data(), mean.data(), invstd.data(), dy.data(), dx.data(),
                            dw.data(), db.data());
        c.ours = {{"y", y},
                  {"dx", dx},
                  {"dweight", dw},
                  {"dbias", db},
                  {"running_mean", runningMean},
                  {"running_var", runningVar}};
        cases_.push_back(std::move(c));
    }

    void addEmbedding(const std::string& name, int64_t vocabulary, int64_t dim, std::vector<int64_t> indexShape,
                      int64_t paddingIndex) {
        Case c{name, "embedding", {}, {}, {}};
        c.inputs.reserve(3);
        const EmbeddingShape s{
            .vocabulary = vocabulary, .dim = dim, .count = int64_t(elements(indexShape)), .paddingIndex = paddingIndex};
        c.params = {{"padding_idx", qint64(paddingIndex)}};
        std::vector<int64_t> indices(elements(indexShape));
        std::mt19937 generator(seed_++);
        for (auto& i : indices) i = int64_t(generator() % uint32_t(vocabulary));
        c.inputs.push_back({"indices", indexShape, {}, indices});
        auto& w = input(c, "weight", {vocabulary, dim});
        auto outShape = indexShape;
        outShape.push_back(dim);
        auto& dy = input(c, "dy", outShape);
        std::vector<float> y(dy.size()), dw(w.size());
        embedding_forward(s, indices.data(), w.data(), y.data());
        embedding_backward(s, indices.data(), dy.data(), dw.data(), raven::test::threadedFor(2));
        c.ours = {{"y", y}, {"dweight", dw}};
        cases_.push_back(std::move(c));
    }

    void addAttention(const std::string& name, const AttentionShape& s) {
        Case c{name, "attention", {}, {}, {}};
        c.inputs.reserve(4);
        c.params = {{"scale", double(s.effectiveScale())}, {"causal", s.causal}};
        auto& q = input(c, "q", {s.batch, s.heads, s.queryLength, s.headDim}, -2.0f, 2.0f);
        auto& k = input(c, "k", {s.batch, s.heads, s.keyLength, s.headDim}, -2.0f, 2.0f);
        auto& v = input(c, "v", {s.batch, s.heads, s.keyLength, s.valueDim});
        auto& dy = input(c, "dy", {s.batch, s.heads, s.queryLength, s.valueDim});
        std::vector<float> y(dy.size()), probs(size_t(s.batch * s.heads * s.queryLength * s.keyLength));
        std::vector<float> dq(q.size()), dk(k.size()), dv(v.size());
        attention_forward(s, q.data(), k.data(), v.data(), y.data(), probs.data(), raven::test::threadedFor(2));
        attention_backward(s, q.data(), k.data(), v.data(), probs.data(), dy.data(), dq.data(), dk.data(), dv.data(),
                           raven::test::threadedFor(2));
        c.ours = {{"y", y}, {"probs", probs}, {"dq", dq}, {"dk", dk}, {"dv", dv}};
        cases_.push_back(std::move(c));
    }

    void writeInputs() {
        QJsonArray manifest;
        for (const Case& c : cases_) {
            QJsonObject inputs;
            for (const Input& in : c.inputs) {
                QJsonArray shape;
                for (int64_t d : in.shape) shape.append(qint64(d));
                const bool ints = !in.ints.empty();
                inputs[QString::fromStdString(in.name)] =
                    QJsonObject{{"shape", shape}, {"dtype", ints ? "int64" : "float32"}};
                QFile file(dir_.filePath(QString::fromStdString(c.name + "." + in.name + ".bin")));
                QVERIFY(file.open(QIODevice::WriteOnly));
                const auto bytes = ints ? in.ints.size() * sizeof(int64_t) : in.values.size() * sizeof(float);
                const char* data = ints ? reinterpret_cast<const char*>(in.ints.data())
                                        : reinterpret_cast<const char*>(in.values.data());
                QCOMPARE(file.write(data, qint64(bytes)), qint64(bytes));
            }
            manifest.append(QJsonObject{{"name", QString::fromStdString(c.name)},
                                        {"op", QString::fromStdString(c.op)},
                                        {"params", c.params},
                                        {"inputs", inputs}});
        }
        QFile file(dir_.filePath("manifest.json"));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QJsonDocument(QJsonObject{{"cases", manifest}}).toJson());
    }

    // Runs the reference script with the first Python that has torch: RAVEN_PYTHON first, then Debian's
    // own interpreter (where python3-torch installs). Skips the test only when none has torch.
    void runReference() {
        const QString script =
            QDir(qEnvironmentVariable("RAVEN_SOURCE_DIR")).filePath("tests/cpu_kernels/torch_reference.py");
        QVERIFY2(QFile::exists(script), qPrintable("missing " + script + " (is RAVEN_SOURCE_DIR set?)"));
        QStringList pythons;
        for (const QString& p :
             {qEnvironmentVariable("RAVEN_PYTHON"), QStringLiteral("/usr/bin/python3"), QStringLiteral("python3")})
            if (!p.isEmpty() && !pythons.contains(p)) pythons << p;
        for (const QString& python : pythons) {
            QProcess process;
            process.start(python, {script, dir_.path()});
            if (!process.waitForStarted()) continue;
            QVERIFY(process.waitForFinished(120000));
            if (process.exitStatus() == QProcess::NormalExit && process.exitCode() == 77) continue;
            QVERIFY2(process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0,
                     qPrintable(python + " torch_reference.py failed:\n" + process.readAllStandardError()));
            return;
        }
        QSKIP(qPrintable("no Python with torch among " + pythons.join(", ") + ": install python3-torch"));
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        addConv("conv_3x3_pad1_bias",
                {.batch = 2,
                 .inChannels = 3,
                 .height = 9,
                 .width = 8,
                 .outChannels = 5,
                 .kernelH = 3,
                 .kernelW = 3,
                 .padH = 1,
                 .padW = 1},
                true);
        addConv("conv_stride_dilation_groups",
                {.batch = 3,
                 .inChannels = 6,
                 .height = 11,
                 .width = 10,
                 .outChannels = 4,
                 .kernelH = 3,
                 .kernelW = 2,
                 .strideH = 2,
                 .strideW = 3,
                 .padH = 2,
                 .padW = 1,
                 .dilationH = 2,
                 .dilationW = 3,
                 .groups = 2},
                true);
        addConv("conv_pointwise_nobias", {.batch = 2, .inChannels = 8, .height = 5, .width = 7, .outChannels = 6},
                false);
        addConv("conv_depthwise",
                {.batch = 1,
                 .inChannels = 4,
                 .height = 6,
                 .width = 6,
                 .outChannels = 8,
                 .kernelH = 5,
                 .kernelW = 5,
                 .padH = 2,
                 .padW = 2,
                 .groups = 4},
                true);
        addConv("conv_cnn_layer_batch20",
                {.batch = 20,
                 .inChannels = 16,
                 .height = 14,
                 .width = 14,
                 .outChannels = 32,
                 .kernelH = 3,
                 .kernelW = 3,
                 .padH = 1,
                 .padW = 1},
                true);
        addConv("conv_1x1_input", {.batch = 1, .inChannels = 1, .height = 1, .width = 1, .outChannels = 1}, true);

        addPool("maxpool_2x2",
                {.batch = 2,
                 .channels = 3,
                 .height = 8,
                 .width = 7,
                 .kernelH = 2,
                 .kernelW = 2,
                 .strideH = 2,
                 .strideW = 2},
                true);
        addPool("maxpool_3x3_s2_pad1",
                {.batch = 2,
                 .channels = 2,
                 .height = 9,
                 .width = 6,
                 .kernelH = 3,
                 .kernelW = 3,
                 .strideH = 2,
                 .strideW = 2,
                 .padH = 1,
                 .padW = 1},
                true);
        addPool("avgpool_3x2_pad",
                {.batch = 2,
                 .channels = 3,
                 .height = 7,
                 .width = 5,
                 .kernelH = 3,
                 .kernelW = 2,
                 .strideH = 2,
                 .strideW = 1,
                 .padH = 1,
                 .padW = 1},
                false, true);
        addPool("avgpool_exclude_pad",
                {.batch = 1,
                 .channels = 2,
                 .height = 6,
                 .width = 6,
                 .kernelH = 3,
                 .kernelW = 3,
                 .strideH = 2,
                 .strideW = 2,
                 .padH = 1,
                 .padW = 1},
                false, false);

        addLayerNorm("layernorm_last", {4, 7, 33}, 1, true);
        addLayerNorm("layernorm_last2", {2, 3, 4, 5}, 2, true);
        addLayerNorm("layernorm_plain", {5, 16}, 1, false);

        addBatchNorm("batchnorm2d_train", {4, 3, 5, 6}, true);
        addBatchNorm("batchnorm1d_train", {7, 5}, true);
        addBatchNorm("batchnorm2d_eval", {3, 4, 2, 3}, false);

        addEmbedding("embedding", 11, 6, {3, 7}, -1);
        addEmbedding("embedding_padding", 5, 130, {4, 6}, 2);

        addAttention("attention",
                     {.batch = 2, .heads = 3, .queryLength = 7, .keyLength = 7, .headDim = 8, .valueDim = 8});
        addAttention(
            "attention_causal",
            {.batch = 2, .heads = 2, .queryLength = 9, .keyLength = 9, .headDim = 4, .valueDim = 6, .causal = true});
        addAttention(
            "attention_T1_causal",
            {.batch = 1, .heads = 2, .queryLength = 1, .keyLength = 1, .headDim = 5, .valueDim = 3, .causal = true});
        addAttention(
            "attention_cross_causal",
            {.batch = 1, .heads = 1, .queryLength = 4, .keyLength = 6, .headDim = 3, .valueDim = 2, .causal = true});

        writeInputs();
        runReference();
    }

    void compare_data() {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < cases_.size(); ++i) QTest::newRow(cases_[i].name.c_str()) << int(i);
    }
    void compare() {
        QFETCH(int, index);
        const Case& c = cases_[size_t(index)];
        for (const auto& [output, ours] : c.ours) {
            QFile file(dir_.filePath(QString::fromStdString(c.name + ".ref." + output + ".bin")));
            QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable("torch gave no " + QString::fromStdString(output)));
            const QByteArray bytes = file.readAll();
            QCOMPARE(size_t(bytes.size()), ours.size() * sizeof(double));
            const auto* reference = reinterpret_cast<const double*>(bytes.constData());
            double largest = 0.0, worst = 0.0;
            size_t worstAt = 0;
            for (size_t i = 0; i < ours.size(); ++i) {
                largest = std::max(largest, std::abs(reference[i]));
                if (std::abs(ours[i] - reference[i]) > worst) {
                    worst = std::abs(ours[i] - reference[i]);
                    worstAt = i;
                }
            }
            const double error = largest > 0.0 ? worst / largest : worst;
            QVERIFY2(error <= 1e-4, qPrintable(QString("%1: relative error %2 at element %3 (ours %4, torch %5)")
                                                   .arg(QString::fromStdString(output))
                                                   .arg(error)
                                                   .arg(worstAt)
                                                   .arg(double(ours[worstAt]))
                                                   .arg(reference[worstAt])));
        }
    }
};

QTEST_GUILESS_MAIN(TorchReference)
#include "tst_torch_reference.moc"
