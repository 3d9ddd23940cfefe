// Every op case of OpCases.h and LayerOpCases.h, forward and backward, against PyTorch in float64: inputs, outputs,
// upstream gradients and Raven's gradients go to a temporary directory as raw float32 files with a
// JSON manifest; torch_reference.py recomputes them and reports the relative error of each tensor,
// which must stay below 1e-4.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "autograd/LayerOpCases.h"
#include "autograd/OpCases.h"

using namespace raven;

namespace {
constexpr double kTolerance = 1e-4;

QJsonObject writeTensor(const QString& dir, const QString& file, const Tensor& t) {
    const std::vector<std::byte> bytes = t.toBytes(DType::F32);
    QFile out(dir + "/" + file);
    if (!out.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(out.fileName()));
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<qint64>(bytes.size()));
    QJsonArray shape;
    for (int64_t d : t.shape()) shape.append(static_cast<qint64>(d));
    return QJsonObject{{"file", file}, {"shape", shape}};
}

// The first interpreter that can import torch: RAVEN_PYTHON, then python3 on PATH, then the system one
// (a pyenv python3 may shadow Debian's, which has python3-torch).
QString findTorchPython() {
    QStringList candidates;
    const QString configured = qEnvironmentVariable("RAVEN_PYTHON");
    if (!configured.isEmpty()) candidates << configured;
    candidates << "python3"
               << "/usr/bin/python3";
    for (const QString& python : candidates) {
        QProcess probe;
        probe.start(python, {"-c", "import torch, numpy"});
        if (probe.waitForFinished(60000) && probe.exitStatus() == QProcess::NormalExit && probe.exitCode() == 0) {
            return python;
        }
    }
    return {};
}
}  // namespace

class TestTorchReference : public QObject {
    Q_OBJECT

private slots:
    void everyOpMatchesPyTorch();
};

void TestTorchReference::everyOpMatchesPyTorch() {
    const QString python = findTorchPython();
    if (python.isEmpty()) QSKIP("no python3 with torch and numpy (install python3-torch)");
    const QString script = qEnvironmentVariable("RAVEN_SOURCE_DIR") + "/tests/autograd/torch_reference.py";
    QVERIFY2(QFile::exists(script), qPrintable("missing " + script + " (is RAVEN_SOURCE_DIR set?)"));

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QJsonArray cases;
    std::vector<test::OpCase> opCases = test::opCases();
    for (test::OpCase& c : test::layerOpCases()) opCases.push_back(std::move(c));
    for (size_t ci = 0; ci < opCases.size(); ++ci) {
        const test::OpCase& c = opCases[ci];
        Generator gen(7000 + ci);
        std::vector<Variable> inputs;
        for (size_t i = 0; i < c.shapes.size(); ++i) {
            const auto kind = i < c.kinds.size() ? c.kinds[i] : test::InputKind::Any;
            inputs.emplace_back(test::drawInput(c.shapes[i], kind, gen), true);
        }
        const Variable out = c.f(inputs);
        const Tensor upstream = uniform(out.shape(), -1.0f, 1.0f, gen);
        out.backward(upstream);

        const QString prefix = QString::fromStdString(c.name);
        QJsonArray inputEntries, gradEntries;
        for (size_t i = 0; i < inputs.size(); ++i) {
            inputEntries.append(writeTensor(dir.path(), prefix + QString("_in%1.f32").arg(i), inputs[i].tensor()));
            const Tensor grad = inputs[i].hasGrad() ? inputs[i].grad() : zeros(inputs[i].shape());
            gradEntries.append(writeTensor(dir.path(), prefix + QString("_grad%1.f32").arg(i), grad));
        }
        cases.append(QJsonObject{{"name", prefix},
                                 {"torch", QString::fromStdString(c.torch)},
                                 {"inputs", inputEntries},
                                 {"grads", gradEntries},
                                 {"output", writeTensor(dir.path(), prefix + "_out.f32", out.tensor())},
                                 {"upstream", writeTensor(dir.path(), prefix + "_up.f32", upstream)}});
    }
    QFile manifest(dir.path() + "/manifest.json");
    QVERIFY(manifest.open(QIODevice::WriteOnly));
    manifest.write(QJsonDocument(QJsonObject{{"cases", cases}}).toJson());
    manifest.close();

    QProcess process;
    process.start(python, {script, dir.path()});
    QVERIFY2(process.waitForFinished(120000), "torch_reference.py did not finish");
    const QByteArray errors = process.readAllStandardError();
    QVERIFY2(process.exitCode() == 0, errors.constData());
    const QJsonObject results = QJsonDocument::fromJson(process.readAllStandardOutput()).object();
    QCOMPARE(results.size(), cases.size());

    QStringList failures;
    for (const auto& c : opCases) {
        const QString name = QString::fromStdString(c.name);
        const QJsonObject r = results.value(name).toObject();
        const double outputError = r.value("output").toDouble(1e300);
        double worstGrad = 0.0;
        for (const auto& g : r.value("grads").toArray()) worstGrad = std::max(worstGrad, g.toDouble(1e300));
        qInfo("%-22s output %.2e  gradients %.2e", qPrintable(name), outputError, worstGrad);
        if (!(outputError <= kTolerance && worstGrad <= kTolerance)) {
            failures << QString("%1 (output %2, gradients %3)").arg(name).arg(outputError).arg(worstGrad);
        }
    }
    QVERIFY2(failures.isEmpty(), qPrintable("relative error above 1e-4: " + failures.join(", ")));
}

QTEST_APPLESS_MAIN(TestTorchReference)
#include "TestTorchReference.moc"
