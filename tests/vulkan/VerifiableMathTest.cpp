// The verifiable math library on a Vulkan device (lavapipe in CI): compute-shaders/verifiable_math_probe
// runs every function of include/verifiable_math.glsl over a grid of arguments, and each result must
// equal core/cpu/kernels/VerifiableMath.h's bit for bit (NaNs as NaNs). Arguments whose result or
// argument is subnormal are compared only where the device keeps subnormals (lavapipe does; a device
// that flushes them must be kept off verifiable units by the device gate, docs/verification.md). The
// contraction discriminator (a `precise` a * b + b) must come out rounded twice.
#include "VulkanTestSupport.h"
#include "cpu/kernels/VerifiableMath.h"
#include "vulkan/Device.h"
#include "vulkan/Instance.h"
#include "vulkan/Recorder.h"
#include "vulkan/VectorAdd.h"
#include "vulkan/VerifiableGate.h"

#include <QTest>

#include <cmath>
#include <cstring>
#include <random>

using namespace raven::vulkan;
namespace vm = raven::verifiable;

namespace {

struct Params {
    std::uint32_t n;
    std::uint32_t fn;
};

std::uint32_t bitsOf(float x) {
    std::uint32_t b = 0;
    std::memcpy(&b, &x, sizeof b);
    return b;
}

bool subnormal(float x) { return x != 0.0f && std::fabs(x) < 1.17549435e-38f; }

float cpuResult(std::uint32_t fn, float a, float b) {
    switch (fn) {
        case 0: return vm::vExp(a);
        case 1: return vm::vLog(a);
        case 2: return vm::vTanh(a);
        case 3: return vm::vSigmoid(a);
        case 4: return vm::vErf(a);
        case 5: return vm::vSqrt(a);
        case 6: return vm::vDiv(a, b);
        case 7: return vm::vPow(a, b);
        default: return vm::vExpm1(a);
    }
}

}  // namespace

class VerifiableMathTest : public QObject {
    Q_OBJECT

    std::shared_ptr<Instance> instance_;
    std::size_t messagesBefore_ = 0;
    std::unique_ptr<Device> device_;

    std::vector<float> run(std::uint32_t fn, const std::vector<float>& x, const std::vector<float>& y) {
        const VkDeviceSize bytes = x.size() * sizeof(float);
        Buffer dx = device_->createBuffer(bytes), dy = device_->createBuffer(bytes), dr = device_->createBuffer(bytes);
        const std::uint32_t local = vectorAddWorkgroupSize(*device_);
        const Pipeline& pipeline = device_->pipelines().get({"verifiable_math_probe", 3, sizeof(Params), {local}});
        std::vector<float> r(x.size());
        Recorder recorder(*device_);
        recorder.upload(dx.range(), std::span<const float>(x));
        recorder.upload(dy.range(), std::span<const float>(y));
        recorder.dispatch(pipeline,
                          {{dx.range(), Access::Read}, {dy.range(), Access::Read}, {dr.range(), Access::Write}},
                          Params{static_cast<std::uint32_t>(x.size()), fn}, Recorder::groupsFor(x.size(), local));
        recorder.download(dr.range(), std::span<float>(r));
        recorder.submit();
        return r;
    }

    // Whether the device keeps a subnormal through a copy and a multiplication by one.
    bool keepsSubnormals() {
        const std::vector<float> x{1e-40f}, y{1.0f};
        return run(6, x, y)[0] != 0.0f;  // 1e-40 / 1
    }

private slots:
    void initTestCase() {
        QString skip;
        instance_ = raven::test::openInstance(skip);
        if (!instance_) QSKIP(qPrintable(skip));
        DeviceOptions options;
        options.pipelineCacheDir = std::filesystem::path();
        device_ = std::make_unique<Device>(instance_, options);
    }
    RAVEN_VULKAN_VALIDATION_CHECKS
    void cleanupTestCase() { device_.reset(); }

    void sameBitsAsTheCpu_data() {
        QTest::addColumn<int>("fn");
        const char* names[] = {"exp", "log", "tanh", "sigmoid", "erf", "sqrt", "div", "pow", "expm1"};
        for (int fn = 0; fn < 9; ++fn) QTest::newRow(names[fn]) << fn;
    }
    void sameBitsAsTheCpu() {
        QFETCH(int, fn);
        std::mt19937 rng(static_cast<unsigned>(fn) + 1);
        std::uniform_real_distribution<float> wide(-90.0f, 90.0f), positive(1e-30f, 1e30f), unit(-4.0f, 4.0f);
        std::vector<float> x, y;
        // Specials first, then random arguments of the function's interesting range.
        for (float s : {0.0f, -0.0f, 1.0f, -1.0f, INFINITY, -INFINITY, NAN, 88.7f, -86.4f, 1e-38f, 3e38f}) {
            x.push_back(s);
            y.push_back(2.5f);
        }
        for (int i = 0; i < 200000; ++i) {
            const bool pos = fn == 1 || fn == 5 || fn == 7;
            x.push_back(pos ? (i % 2 ? positive(rng) : std::fabs(unit(rng))) : (i % 2 ? wide(rng) : unit(rng)));
            y.push_back(fn == 6 ? wide(rng) * std::exp2(unit(rng) * 10.0f) : unit(rng));
        }
        const std::vector<float> got = run(static_cast<std::uint32_t>(fn), x, y);
        const bool keeps = keepsSubnormals();
        int compared = 0, skipped = 0;
        for (size_t i = 0; i < x.size(); ++i) {
            const float want = cpuResult(static_cast<std::uint32_t>(fn), x[i], y[i]);
            if (!keeps && (subnormal(want) || subnormal(x[i]) || subnormal(y[i]))) {
                ++skipped;
                continue;
            }
            ++compared;
            if (std::isnan(want) && std::isnan(got[i])) continue;
            QVERIFY2(bitsOf(got[i]) == bitsOf(want),
                     qPrintable(QString("f(%1, %2): device %3 (0x%4), CPU %5 (0x%6)")
                                    .arg(double(x[i]), 0, 'g', 9)
                                    .arg(double(y[i]), 0, 'g', 9)
                                    .arg(double(got[i]), 0, 'g', 9)
                                    .arg(bitsOf(got[i]), 8, 16, QChar('0'))
                                    .arg(double(want), 0, 'g', 9)
                                    .arg(bitsOf(want), 8, 16, QChar('0'))));
        }
        qInfo("%d arguments equal bit for bit; %d skipped (subnormal: this device %s subnormals)", compared, skipped,
              keeps ? "keeps" : "flushes");
    }

    // The device gate admits lavapipe (it rounds, keeps signed zeros and subnormals and does not
    // contract), and every failure it can report is a sentence naming the case.
    void deviceGateAdmitsLavapipe() {
        const VerifiableGate gate = checkVerifiableGate(*device_);
        qInfo("%s: %s", device_->info().name.c_str(), gate.summary().c_str());
        QVERIFY2(gate.admitted, gate.summary().c_str());
        QVERIFY(gate.failures.empty());
        VerifiableGate refused;
        refused.failures = {"subnormals: 2^-149 + 0 must stay 2^-149, not 0, the device gives 0 (0x0)"};
        QCOMPARE(QString::fromStdString(refused.summary()),
                 QString("verifiable units: no: subnormals: 2^-149 + 0 must stay 2^-149, not 0, the device gives 0 (0x0)"));
    }

    // a * b + b with a = 1.5, b = -(1 + 2^-23): the product -(1.5 + 1.5 * 2^-23) is not a float, so
    // rounding it before the sum gives -0x1.400004p+1 and a fused multiply-add -0x1.400002p+1.
    void contractionDiscriminator() {
        const float a = 1.5f, b = -(1.0f + 0x1p-23f);
        const std::vector<float> x{a}, y{b};
        const float got = run(9, x, y)[0];
        QCOMPARE(got, -0x1.400004p+1f);
        QVERIFY(got != std::fma(a, b, b));
    }
};

QTEST_APPLESS_MAIN(VerifiableMathTest)
#include "VerifiableMathTest.moc"
