// A job's learning-rate schedule (wire::LearningRateSchedule) as the coordinator applies it, step by
// step, against torch.optim.lr_scheduler built from the same wire fields by lr_schedule_reference.py
// (StepLR, CosineAnnealingLR, LinearLR + SequentialLR); the schedules CreateJob refuses, each naming
// its field; and `raven submit --lr-schedule` text read into the wire and back.
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

#include "base/Error.h"
#include "coordinator/JobConfig.h"
#include "coordinator/LearningRateSchedule.h"
#include "nn/TorchPeer.h"
#include "requester/Hyperparameters.h"

using namespace raven;

namespace {

struct Case {
    const char* name;
    wire::LearningRateSchedule schedule;
    double lr;
    std::int64_t totalSteps;
};

wire::LearningRateSchedule stepDecay(std::uint64_t every, double gamma) {
    wire::LearningRateSchedule s;
    s.set_kind(wire::LEARNING_RATE_SCHEDULE_KIND_STEP);
    s.set_step_size(every);
    s.set_gamma(gamma);
    return s;
}

wire::LearningRateSchedule cosine(double minLr, std::uint64_t warmup = 0, double start = 0, std::uint64_t cycle = 0) {
    wire::LearningRateSchedule s;
    s.set_kind(wire::LEARNING_RATE_SCHEDULE_KIND_COSINE);
    s.set_min_learning_rate(minLr);
    s.set_warmup_steps(warmup);
    s.set_warmup_start_factor(start);
    s.set_cycle_steps(cycle);
    return s;
}

std::vector<Case> cases() {
    wire::LearningRateSchedule constant;
    constant.set_kind(wire::LEARNING_RATE_SCHEDULE_KIND_CONSTANT);
    return {
        {"constant", constant, 0.01, 12},
        {"unspecified is constant", wire::LearningRateSchedule{}, 0.003, 5},
        {"step every 7 x0.5", stepDecay(7, 0.5), 0.1, 40},
        {"step every step x0.9", stepDecay(1, 0.9), 1e-3, 25},
        {"cosine to 0", cosine(0.0), 0.05, 30},
        {"cosine to 1e-4 over a 20-step cycle", cosine(1e-4, 0, 0, 20), 0.02, 20},
        {"warm-up 5 from 1/3, then cosine", cosine(0.0, 5), 0.1, 24},
        {"warm-up 10 from 0.01, then cosine to 1e-3", cosine(1e-3, 10, 0.01), 0.1, 50},
        {"warm-up 1, then cosine", cosine(0.0, 1, 0.5), 0.2, 3},
    };
}

QJsonObject wireCase(const Case& c) {
    const auto& s = c.schedule;
    const char* kind = s.kind() == wire::LEARNING_RATE_SCHEDULE_KIND_STEP     ? "step"
                       : s.kind() == wire::LEARNING_RATE_SCHEDULE_KIND_COSINE ? "cosine"
                                                                              : "constant";
    return {{"kind", kind},
            {"lr", c.lr},
            {"total_steps", qint64(c.totalSteps)},
            {"step_size", qint64(s.step_size())},
            {"gamma", s.gamma()},
            {"min_lr", s.min_learning_rate()},
            {"cycle_steps", qint64(s.cycle_steps())},
            {"warmup_steps", qint64(s.warmup_steps())},
            {"warmup_start_factor", s.warmup_start_factor()}};
}

QString refusal(const wire::LearningRateSchedule& s) {
    wire::Hyperparameters h;
    h.set_global_batch(128);
    *h.mutable_lr_schedule() = s;
    try {
        coordinator::JobConfig::fromWire(h, 0, QStringLiteral("spec"));
    } catch (const Error& e) {
        return QString::fromStdString(e.message());
    }
    return {};
}

}  // namespace

class LearningRateScheduleTest : public QObject {
    Q_OBJECT
private slots:
    void matchesTorchStepByStep() {
        REQUIRE_TORCH();
        QTemporaryDir dir;
        QJsonArray json;
        const std::vector<Case> all = cases();
        for (const Case& c : all) json.append(wireCase(c));
        QFile in(dir.filePath("cases.json"));
        QVERIFY(in.open(QIODevice::WriteOnly));
        in.write(QJsonDocument(json).toJson());
        in.close();
        QProcess torch;
        torch.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        torch.start(nntest::torchPython(), {nntest::sourceDir() + "/tests/coordinator/lr_schedule_reference.py",
                                            in.fileName(), dir.filePath("out.json")});
        QVERIFY(torch.waitForFinished(120000));
        QCOMPARE(torch.exitCode(), 0);
        QFile out(dir.filePath("out.json"));
        QVERIFY(out.open(QIODevice::ReadOnly));
        const QJsonArray reference = QJsonDocument::fromJson(out.readAll()).array();
        QCOMPARE(reference.size(), qsizetype(all.size()));
        for (std::size_t i = 0; i < all.size(); ++i) {
            const Case& c = all[i];
            QVERIFY(refusal(c.schedule).isEmpty());
            const QJsonArray rates = reference[qsizetype(i)].toArray();
            QCOMPARE(rates.size(), qsizetype(c.totalSteps));
            for (std::int64_t step = 0; step < c.totalSteps; ++step) {
                const double ours = coordinator::learningRateAt(c.schedule, c.lr, step, c.totalSteps);
                const double theirs = rates[qsizetype(step)].toDouble();
                // PyTorch's chainable forms accumulate rounding: 1e-9 relative is far below any
                // difference a schedule could make.
                QVERIFY2(std::fabs(ours - theirs) <= 1e-9 * std::max(std::fabs(theirs), 1e-12),
                         qPrintable(QStringLiteral("%1, step %2: Raven %3, PyTorch %4")
                                        .arg(c.name)
                                        .arg(step)
                                        .arg(ours, 0, 'g', 17)
                                        .arg(theirs, 0, 'g', 17)));
            }
        }
    }

    void aPureFunctionOfTheStep() {
        // The same step gives the same rate whatever was asked before (a restarted coordinator).
        const auto s = cosine(1e-4, 10, 0.01);
        const double first = coordinator::learningRateAt(s, 0.1, 37, 100);
        for (std::int64_t step = 0; step < 100; ++step) coordinator::learningRateAt(s, 0.1, step, 100);
        QCOMPARE(coordinator::learningRateAt(s, 0.1, 37, 100), first);
        // Past the cycle the rate stays at its minimum (PyTorch would rise again).
        QCOMPARE(coordinator::learningRateAt(cosine(1e-4, 0, 0, 10), 0.1, 15, 100), 1e-4);
    }

    void refusedSchedulesNameTheirField() {
        QVERIFY(refusal(stepDecay(0, 0.5)).contains("step_size"));
        QVERIFY(refusal(stepDecay(10, 0.0)).contains("gamma"));
        QVERIFY(refusal(stepDecay(10, 1.5)).contains("gamma"));
        QVERIFY(refusal(cosine(-1e-3)).contains("min_learning_rate"));
        QVERIFY(refusal(cosine(0, 10, 2.0)).contains("warmup_start_factor"));
        auto warmStep = stepDecay(10, 0.5);
        warmStep.set_warmup_steps(5);
        QVERIFY(refusal(warmStep).contains("warm-up goes with the cosine"));
        wire::LearningRateSchedule unknown;
        unknown.set_kind(wire::LearningRateScheduleKind(42));
        QVERIFY(refusal(unknown).contains("unknown learning-rate schedule"));
    }

    void keptWithTheJobsSettings() {
        // The schedule travels in the hyperparameters the store keeps (JobConfig::toJson).
        wire::Hyperparameters h;
        h.set_global_batch(64);
        h.set_learning_rate(0.1);
        *h.mutable_lr_schedule() = cosine(1e-3, 10, 0.01);
        const auto config = coordinator::JobConfig::fromWire(h, 3, QStringLiteral("abc"));
        const auto again = coordinator::JobConfig::fromJson(config.toJson());
        QVERIFY(again.hyperparameters.lr_schedule().SerializeAsString() == h.lr_schedule().SerializeAsString());
    }

    void readFromTheCommandLine() {
        const auto s = requester::lrScheduleFromText(QStringLiteral("cosine:min=1e-5,warmup=100,start=0.01"));
        QCOMPARE(s.kind(), wire::LEARNING_RATE_SCHEDULE_KIND_COSINE);
        QCOMPARE(s.min_learning_rate(), 1e-5);
        QCOMPARE(s.warmup_steps(), std::uint64_t(100));
        QCOMPARE(s.warmup_start_factor(), 0.01);
        QVERIFY(requester::lrScheduleFromText(requester::lrScheduleText(s)).SerializeAsString() ==
                s.SerializeAsString());
        const auto step = requester::lrScheduleFromText(QStringLiteral("step:every=200,gamma=0.5"));
        QCOMPARE(step.kind(), wire::LEARNING_RATE_SCHEDULE_KIND_STEP);
        QCOMPARE(step.step_size(), std::uint64_t(200));
        QCOMPARE(step.gamma(), 0.5);
        QCOMPARE(requester::describeLrSchedule(step), QStringLiteral("step decay ×0.5 every 200 steps"));
        QCOMPARE(requester::lrScheduleFromText(QStringLiteral("constant")).kind(),
                 wire::LEARNING_RATE_SCHEDULE_KIND_CONSTANT);
        const auto refused = [](const char* text) {
            try {
                requester::lrScheduleFromText(QString::fromLatin1(text));
            } catch (const Error& e) {
                return QString::fromStdString(e.message());
            }
            return QString();
        };
        QVERIFY(refused("linear").contains("unknown learning-rate schedule 'linear'"));
        QVERIFY(refused("cosine:every=3").contains("'every=3' is not a setting of cosine"));
        QVERIFY(refused("step:gamma=0.5").contains("needs every="));
        QVERIFY(refused("cosine:min=abc").contains("min=abc is not a number"));
    }
};

QTEST_GUILESS_MAIN(LearningRateScheduleTest)
#include "tst_LearningRateSchedule.moc"
