// The proof of the verifiable kernel mode (#18 item 3) on the CPU: one training step of the MLP and
// the CNN of examples/ (the same seeded weights and batch every time) gives gradients whose SHA-256
// (NaNs canonicalized) is the same at 1, 2, 4 and 7 threads and equals a golden value fixed here. ctest
// runs this test under OPENBLAS_CORETYPE=Haswell (AVX2) and SkylakeX (AVX-512) too
// (tests/tensor/CMakeLists.txt): the verifiable hashes stay the golden ones, as they must since the
// verifiable mode never calls OpenBLAS; the fast mode's hashes are printed beside them (they depend
// on the core type). Another build of the same sources on another x86-64 CPU must print the same
// verifiable hashes.
#include <QCryptographicHash>
#include <QtTest>

#include <cmath>
#include <cstring>

#include "cpu/CpuBackend.h"
#include "nn/Model.h"
#include "nn/ModelSpec.h"
#include "tensor/Random.h"

using namespace raven;

namespace {

// SHA-256 over the gradients' float32 bits, in parameter order, every NaN written as 0x7fc00000.
QString gradientHash(const std::vector<Tensor>& gradients) {
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (const Tensor& g : gradients) {
        std::vector<float> v = g.toVector();
        for (float& x : v)
            if (std::isnan(x)) {
                const std::uint32_t canonical = 0x7fc00000u;
                std::memcpy(&x, &canonical, sizeof x);
            }
        hash.addData(QByteArrayView(reinterpret_cast<const char*>(v.data()), static_cast<qsizetype>(v.size() * 4)));
    }
    return QString::fromLatin1(hash.result().toHex());
}

// One step: the loss of a seeded batch of 64 images, backward, the gradients' hash.
QString stepHash(const std::string& model, int threads, KernelMode mode) {
    CpuBackend backend(threads);
    backend.setKernelMode(mode);
    nn::Model m(nn::ModelSpec::load(std::string(RAVEN_EXAMPLES_DIR) + "/" + model + ".json"), backend);
    Generator gen(2026);
    const Tensor x = randn({64, 1, 28, 28}, gen, backend);
    std::vector<float> labels(64);
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<float>((i * 7) % 10);
    const Tensor y = fromVector({64}, labels, backend);
    m.zeroGrad();
    m.loss(m.forward(x), y).backward();
    return gradientHash(m.gradients());
}

}  // namespace

class VerifiableStepTest : public QObject {
    Q_OBJECT

private slots:
    void sameGradientEverywhere_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("golden");
        QTest::newRow("mlp") << "mlp" << "08d3323127ca74a7c0e996e49b1fd7c5b9ec848f0efc21ecd4841894aa5b9795";
        QTest::newRow("cnn") << "cnn" << "bf44702886e69e5892f15695f4cf67e0dc07ee3cb845f23ad64392188bcdc654";
    }
    void sameGradientEverywhere() {
        QFETCH(QString, model);
        QFETCH(QString, golden);
        const QByteArray core = qgetenv("OPENBLAS_CORETYPE");
        for (int threads : {1, 2, 4, 7}) {
            const QString verifiable = stepHash(model.toStdString(), threads, KernelMode::Verifiable);
            const QString fast = stepHash(model.toStdString(), threads, KernelMode::Fast);
            qInfo("%s, %d threads, OPENBLAS_CORETYPE=%s: verifiable %s, fast %s", qPrintable(model), threads,
                  core.isEmpty() ? "(auto)" : core.constData(), qPrintable(verifiable), qPrintable(fast));
            QCOMPARE(verifiable, golden);
        }
    }
};

QTEST_GUILESS_MAIN(VerifiableStepTest)
#include "TestVerifiableStep.moc"
