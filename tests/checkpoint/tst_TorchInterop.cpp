// Checkpoints move between Raven and PyTorch both ways. tests/checkpoint/safetensors_torch.py is
// PyTorch's side (Debian has no python safetensors package, so it implements the format itself):
//  (a) it saves a seeded Conv2d/BatchNorm2d/Linear state_dict (F32, I64, one BF16 and one F16
//      tensor, special F16/BF16 values) with a JSON sidecar of exact float32 bit patterns; Raven
//      reads the file and must find every dtype, shape and bit;
//  (b) Raven derives a checkpoint from it (2p+1 in float32, two tensors rounded by Raven to BF16 and
//      F16, optimizer state p'/2) and the script loads it into the same torch module with
//      load_state_dict(strict=True), comparing every value bit for bit with torch's own arithmetic
//      and rounding.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <bit>

#include "checkpoint/Checkpoint.h"

using raven::Checkpoint;
using raven::SafeTensors;
using raven::safetensors::DType;

namespace {

// The first interpreter that has torch: $RAVEN_PYTHON, then python3 on the PATH, then Debian's (a
// python3 of pyenv or a virtual environment may come first on the PATH without torch). Looking the
// module up, rather than importing it, keeps the probe fast.
QString pythonWithTorch() {
    QStringList candidates;
    if (const QString configured = qEnvironmentVariable("RAVEN_PYTHON"); !configured.isEmpty())
        candidates << configured;
    candidates << "python3"
               << "/usr/bin/python3";
    for (const QString& candidate : candidates) {
        QProcess probe;
        probe.start(candidate,
                    {"-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"});
        if (probe.waitForFinished(60000) && probe.exitStatus() == QProcess::NormalExit && probe.exitCode() == 0)
            return candidate;
    }
    return {};
}

QString script() {
    const QString root = qEnvironmentVariable("RAVEN_SOURCE_DIR", QStringLiteral(RAVEN_TEST_SOURCE_ROOT));
    return root + "/tests/checkpoint/safetensors_torch.py";
}

// Runs the script; fails the calling test (returning false) with its output if it does not exit 0.
bool runScript(const QString& python, const QStringList& arguments, QString& output) {
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(python, QStringList{script()} + arguments);
    const bool finished = process.waitForFinished(100000);
    output = QString::fromUtf8(process.readAll());
    return finished && process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0;
}

}  // namespace

class TorchInteropTest : public QObject {
    Q_OBJECT
private:
    QString python_;
    QTemporaryDir dir_;

    QString torchFile() const { return dir_.filePath("torch.safetensors"); }
    QString sidecar() const { return dir_.filePath("torch.json"); }

private slots:
    void initTestCase() {
        python_ = pythonWithTorch();
        if (python_.isEmpty()) QSKIP("no python3 with torch: the PyTorch interoperability test needs python3-torch");
        QVERIFY(dir_.isValid());
        QString output;
        QVERIFY2(runScript(python_, {"write", torchFile(), sidecar()}, output), qPrintable(output));
    }

    void ravenReadsWhatTorchWrote() {
        const SafeTensors tensors = SafeTensors::read(torchFile().toStdString());
        QCOMPARE(tensors.metadata.at("format"), std::string("pt"));
        QFile file(sidecar());
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject expected = QJsonDocument::fromJson(file.readAll()).object();
        QCOMPARE(tensors.size(), std::size_t(expected.size()));
        QVERIFY(expected.size() >= 12);
        for (auto it = expected.begin(); it != expected.end(); ++it) {
            const std::string name = it.key().toStdString();
            const QJsonObject info = it.value().toObject();
            const raven::NamedArray& array = tensors.at(name);
            QCOMPARE(QString::fromUtf8(raven::safetensors::dtypeName(array.dtype)), info.value("dtype").toString());
            std::vector<std::int64_t> shape;
            for (const QJsonValue dim : info.value("shape").toArray()) shape.push_back(dim.toInteger());
            QCOMPARE(array.shape, shape);
            const std::vector<float> values = array.toFloat32();
            const QJsonArray bits = info.value("bits").toArray();
            QCOMPARE(values.size(), std::size_t(bits.size()));
            for (std::size_t i = 0; i < values.size(); ++i)
                QVERIFY2(std::bit_cast<std::int32_t>(values[i]) == bits.at(qsizetype(i)).toInteger(),
                         qPrintable(QString("%1[%2]").arg(it.key()).arg(i)));
        }
        QCOMPARE(tensors.at("3.weight").dtype, DType::BF16);
        QCOMPARE(tensors.at("3.bias").dtype, DType::F16);
        QCOMPARE(tensors.at("1.num_batches_tracked").dtype, DType::I64);
    }

    void torchLoadsWhatRavenWrote() {
        const SafeTensors reference = SafeTensors::read(torchFile().toStdString());
        Checkpoint checkpoint;
        checkpoint.spec = R"({"input": [1, 6, 6], "layers": ["conv2d", "batchnorm2d", "flatten", "linear"]})";
        checkpoint.optimizer = R"({"type": "adam", "lr": 0.001})";
        checkpoint.step = 42;
        for (const raven::NamedArray& array : reference.arrays()) {
            if (array.name.starts_with("specials") || array.name == "empty") continue;
            if (!raven::safetensors::isFloatingPoint(array.dtype)) {
                checkpoint.parameters.put(array);
                continue;
            }
            std::vector<float> derived = array.toFloat32();
            for (float& v : derived) v = v * 2.0f + 1.0f;
            const DType storage = array.name == "3.weight" ? DType::BF16
                                  : array.name == "3.bias" ? DType::F16
                                                           : DType::F32;
            checkpoint.parameters.putFloat32(array.name, array.shape, derived, storage);
            for (float& v : derived) v *= 0.5f;
            checkpoint.optimizerState.putFloat32(Checkpoint::optimizerStateName(array.name, "exp_avg"), array.shape,
                                                 derived);
        }
        const QString ravenFile = dir_.filePath("raven.safetensors");
        checkpoint.write(ravenFile.toStdString());

        QString output;
        QVERIFY2(runScript(python_, {"check", ravenFile, torchFile()}, output), qPrintable(output));
        QVERIFY2(output.contains("ok"), qPrintable(output));
        QCOMPARE(Checkpoint::read(ravenFile.toStdString()).step, std::int64_t(42));
    }
};

QTEST_GUILESS_MAIN(TorchInteropTest)
#include "tst_TorchInterop.moc"
