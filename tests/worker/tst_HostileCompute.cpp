// The test bed's hostile worker on its own: each named way of cheating rewrites an honest result as
// docs/verification.md describes it, only on the units it should (after --cheat-after, at
// --cheat-rate), and bad options say what to give. Test builds only (RAVEN_HOSTILE_WORKER).
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "base/Error.h"
#include "protocol/GradientCodec.h"
#include "worker/HostileCompute.h"

using namespace raven;
using namespace raven::worker;

namespace {

ComputedUnit honestUnit(const std::string& id, float base) {
    protocol::WorkResult r;
    r.workUnitId = id;
    for (int i = 0; i < 1000; ++i) r.gradient.push_back(base + 0.001f * static_cast<float>(i));
    r.sampleCount = 32;
    r.loss = 12.5;
    r.kernelMode = wire::KERNEL_MODE_VERIFIABLE;
    ComputedUnit done;
    done.workUnitId = QString::fromStdString(id);
    done.parts = protocol::makeSubmitResults(r, wire::GRADIENT_ENCODING_FP32, true);
    return done;
}

wire::WorkUnit unitNamed(const std::string& id) {
    wire::WorkUnit u;
    u.set_id(id);
    return u;
}

protocol::WorkResult sent(const ComputedUnit& done) {
    protocol::ResultAssembler a(done.parts.front().gradient().element_count());
    for (const wire::SubmitResult& part : done.parts) a.add(part);
    return a.result();
}

std::vector<float> tampered(HostileCompute& h, const std::string& id, float base) {
    ComputedUnit done = honestUnit(id, base);
    h.tamper(unitNamed(id), done);
    const protocol::WorkResult r = sent(done);
    if (r.sampleCount != 32 || r.loss != 12.5 || r.kernelMode != wire::KERNEL_MODE_VERIFIABLE)
        qFatal("the result's other fields changed");
    return r.gradient;
}

}  // namespace

class HostileComputeTest : public QObject {
    Q_OBJECT
private slots:
    void eachKindRewritesTheGradientAsNamed() {
        const std::vector<float> honest = sent(honestUnit("1", 1.0f)).gradient;
        HostileCompute scale({"scale", 1.0, 0, {}}), sign({"sign", 1.0, 0, {}}), zero({"zero", 1.0, 0, {}});
        const auto s = tampered(scale, "1", 1.0f), n = tampered(sign, "1", 1.0f), z = tampered(zero, "1", 1.0f);
        for (std::size_t i = 0; i < honest.size(); ++i) {
            QCOMPARE(s[i], honest[i] * 2.0f);
            QCOMPARE(n[i], -honest[i]);
            QCOMPARE(z[i], 0.0f);
        }
        HostileCompute random({"random", 1.0, 0, {}});
        const auto r = tampered(random, "1", 1.0f);
        double rmsHonest = 0, rmsRandom = 0;
        for (std::size_t i = 0; i < honest.size(); ++i) {
            rmsHonest += double(honest[i]) * honest[i];
            rmsRandom += double(r[i]) * r[i];
        }
        QVERIFY(r != honest);
        QVERIFY(std::fabs(std::sqrt(rmsRandom / rmsHonest) - 1.0) < 0.15);  // a plausible norm
        QCOMPARE(scale.cheated(), 1);
    }

    void staleSendsThePreviousUnitsGradient() {
        HostileCompute stale({"stale", 1.0, 0, {}});
        QCOMPARE(tampered(stale, "1", 1.0f), sent(honestUnit("1", 1.0f)).gradient);  // nothing to replay yet
        QCOMPARE(tampered(stale, "2", 5.0f), sent(honestUnit("1", 1.0f)).gradient);
        QCOMPARE(tampered(stale, "3", 9.0f), sent(honestUnit("2", 5.0f)).gradient);
        QCOMPARE(stale.cheated(), 2);
    }

    void copySendsAnotherWorkersResult() {
        QTemporaryDir share;
        HostileCompute copier({"copy", 1.0, 0, share.path()});
        QCOMPARE(tampered(copier, "1", 1.0f), sent(honestUnit("1", 1.0f)).gradient);  // only its own drop: honest
        // Another worker's drop (another process: another name prefix).
        QFile other(QDir(share.path()).filePath("999999-7.f32"));
        QVERIFY(other.open(QIODevice::WriteOnly));
        const std::vector<float> theirs = sent(honestUnit("7", 3.0f)).gradient;
        other.write(reinterpret_cast<const char*>(theirs.data()), qsizetype(theirs.size() * sizeof(float)));
        other.close();
        QCOMPARE(tampered(copier, "2", 1.0f), theirs);
        QVERIFY_THROWS_EXCEPTION(raven::Error, HostileCompute({"copy", 1.0, 0, {}}));
    }

    void copyNeverTakesAnotherWorkersResultForThisSameUnit() {
        // The unit was re-leased after its first worker was caught; that worker dropped its honest
        // result of it, the newest drop there is. Copying it would be the right answer, not a cheat.
        QTemporaryDir share;
        HostileCompute copier({"copy", 1.0, 0, share.path()});
        const auto drop = [&](const QString& name, const std::vector<float>& values) {
            QFile f(QDir(share.path()).filePath(name));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(reinterpret_cast<const char*>(values.data()), qsizetype(values.size() * sizeof(float)));
        };
        const std::vector<float> sameUnit = sent(honestUnit("11", 2.0f)).gradient;
        drop("999999-11.f32", sameUnit);
        QCOMPARE(tampered(copier, "11", 2.0f), sameUnit);  // nothing else to copy: sent honest
        QCOMPARE(copier.cheated(), 0);
        const std::vector<float> otherUnit = sent(honestUnit("7", 3.0f)).gradient;
        drop("999999-7.f32", otherUnit);
        QFile newest(QDir(share.path()).filePath("999999-11.f32"));
        QVERIFY(newest.open(QIODevice::ReadWrite));
        QVERIFY(newest.setFileTime(QDateTime::currentDateTime().addSecs(60), QFileDevice::FileModificationTime));
        newest.close();
        QCOMPARE(tampered(copier, "11", 2.0f), otherUnit);  // the older drop, of another unit
        QCOMPARE(copier.cheated(), 1);
    }

    void onlySometimesAndOnlyAfterHonestUnits() {
        HostileCompute late({"sign", 1.0, 3, {}});
        for (int i = 1; i <= 3; ++i)
            QCOMPARE(tampered(late, std::to_string(i), 1.0f), sent(honestUnit("x", 1.0f)).gradient);
        QVERIFY(tampered(late, "4", 1.0f) != sent(honestUnit("x", 1.0f)).gradient);
        HostileCompute sometimes({"sign", 0.3, 0, {}});
        for (int i = 1; i <= 1000; ++i) tampered(sometimes, std::to_string(i), 1.0f);
        QVERIFY2(sometimes.cheated() > 240 && sometimes.cheated() < 360, qPrintable(QString::number(sometimes.cheated())));
    }

    void unknownKindsAndRatesAreRefused() {
        QVERIFY_THROWS_EXCEPTION(raven::Error, HostileCompute({"lie", 1.0, 0, {}}));
        QVERIFY_THROWS_EXCEPTION(raven::Error, HostileCompute({"sign", 1.5, 0, {}}));
    }
};

QTEST_GUILESS_MAIN(HostileComputeTest)
#include "tst_HostileCompute.moc"
