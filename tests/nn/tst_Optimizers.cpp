// Optimizers, schedules and clipping against torch.optim, torch.optim.lr_scheduler and
// torch.nn.utils.clip_grad_norm_ on the same parameters and gradients (relative error <= 1e-5).
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "base/Error.h"
#include "checkpoint/SafeTensors.h"
#include "nn/GradClip.h"
#include "nn/LrSchedule.h"
#include "nn/Optimizer.h"
#include "nn/TorchPeer.h"
#include "tensor/Random.h"

using namespace raven;
using namespace raven::nn;

namespace {
const std::vector<Shape> kShapes{{4, 3}, {7}, {2, 2, 2}};

double relativeError(const std::vector<float>& ours, const std::vector<float>& ref) {
    if (ours.size() != ref.size()) return 1e9;
    double diff = 0.0, scale = 1e-12;
    for (size_t i = 0; i < ref.size(); ++i) {
        diff = std::max(diff, std::fabs(static_cast<double>(ours[i]) - ref[i]));
        scale = std::max(scale, std::fabs(static_cast<double>(ref[i])));
    }
    return diff / scale;
}
}  // namespace

// Every case writes its inputs and a job line in initTestCase; one Python run answers them all (a torch
// start costs seconds); the data rows then compare.
struct Case {
    QString name;
    QString config;  // optimizer settings, schedule, or max norm
    int steps = 0;
};

const std::vector<Case> kOptimizerCases{
    {"sgd", R"({"type": "sgd", "lr": 0.1})", 6},
    {"sgd momentum, dampening, weight decay",
     R"({"type": "sgd", "lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01})", 6},
    {"sgd nesterov", R"({"type": "sgd", "lr": 0.05, "momentum": 0.8, "nesterov": true, "weight_decay": 0.001})", 6},
    {"adam", R"({"type": "adam", "lr": 0.01})", 6},
    {"adam weight decay", R"({"type": "adam", "lr": 0.003, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1})",
     6},
    {"adamw", R"({"type": "adamw", "lr": 0.01, "weight_decay": 0.05})", 6},
};
const std::vector<Case> kScheduleCases{
    {"constant", R"({"kind": "constant"})", 5},
    {"step", R"({"kind": "step", "step_size": 3, "gamma": 0.5})", 12},
    {"cosine with warm-up",
     R"({"kind": "cosine", "warmup_steps": 4, "warmup_start_factor": 0.1, "total_steps": 20, "min_lr": 0.001})", 21},
    {"cosine", R"({"kind": "cosine", "warmup_steps": 0, "total_steps": 15, "min_lr": 0})", 16},
};
const std::vector<Case> kClipCases{{"clips", "0.5", 0}, {"leaves small gradients", "100", 0}};
constexpr double kScheduleBase = 0.1;

class TestOptimizers : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    bool peerRan_ = false;

    QString file(const QString& kind, const QString& row, const char* suffix) const {
        return dir_.filePath(kind + "-" + QString(row).replace(' ', '_').replace(',', '_') + suffix);
    }

    // The inputs of an optimizer case: parameters, then the gradients of each step, from one seed.
    static void optimizerInputs(int steps, std::vector<Tensor>& params, std::vector<std::vector<Tensor>>& grads) {
        Generator gen(17);
        for (const Shape& s : kShapes) params.push_back(randn(s, gen));
        grads.assign(static_cast<size_t>(steps), {});
        for (auto& step : grads)
            for (const Shape& s : kShapes) step.push_back(randn(s, gen));
    }

    static std::vector<Tensor> clipInputs() {
        Generator gen(23);
        std::vector<Tensor> grads;
        for (const Shape& s : kShapes) grads.push_back(randn(s, gen));
        return grads;
    }

private slots:
    void initTestCase() {
        if (nntest::torchPython().isEmpty()) return;  // the comparisons QSKIP
        QJsonArray jobs;
        for (const Case& c : kOptimizerCases) {
            std::vector<Tensor> params;
            std::vector<std::vector<Tensor>> grads;
            optimizerInputs(c.steps, params, grads);
            SafeTensors in;
            for (size_t i = 0; i < params.size(); ++i) {
                in.putFloat32("p." + std::to_string(i), kShapes[i], params[i].toVector());
                for (size_t k = 0; k < grads.size(); ++k)
                    in.putFloat32("g." + std::to_string(i) + "." + std::to_string(k), kShapes[i],
                                  grads[k][i].toVector());
            }
            in.write(file("step", c.name, ".in").toStdString());
            // The settings as Raven writes them (so toJson is checked against PyTorch's names too).
            const std::string settings = OptimizerConfig::fromJson(c.config.toStdString()).toJson();
            jobs.append(QJsonArray{"step", QString::fromStdString(settings), QString::number(c.steps),
                                   file("step", c.name, ".in"), file("step", c.name, ".out")});
        }
        for (const Case& c : kScheduleCases) {
            const LrSchedule s = LrSchedule::fromJson(c.config.toStdString(), kScheduleBase);
            jobs.append(QJsonArray{"schedule", QString::fromStdString(s.toJson()), QString::number(kScheduleBase),
                                   QString::number(c.steps), file("schedule", c.name, ".json")});
        }
        for (const Case& c : kClipCases) {
            const std::vector<Tensor> grads = clipInputs();
            SafeTensors in;
            for (size_t i = 0; i < grads.size(); ++i)
                in.putFloat32("g." + std::to_string(i), kShapes[i], grads[i].toVector());
            in.write(file("clip", c.name, ".in").toStdString());
            jobs.append(QJsonArray{"clip", c.config, file("clip", c.name, ".in"), file("clip", c.name, ".out")});
        }
        QFile jobFile(dir_.filePath("jobs.json"));
        QVERIFY(jobFile.open(QIODevice::WriteOnly));
        jobFile.write(QJsonDocument(jobs).toJson());
        jobFile.close();
        nntest::runPeer("optim_reference.py", {"batch", jobFile.fileName()}, &peerRan_);
        QVERIFY(peerRan_);
    }

    void stepsMatchTorch_data() {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < kOptimizerCases.size(); ++i)
            QTest::newRow(qPrintable(kOptimizerCases[i].name)) << static_cast<int>(i);
    }

    void stepsMatchTorch() {
        REQUIRE_TORCH();
        QFETCH(int, index);
        const Case& c = kOptimizerCases[static_cast<size_t>(index)];
        std::vector<Tensor> params;
        std::vector<std::vector<Tensor>> grads;
        optimizerInputs(c.steps, params, grads);
        std::vector<std::string> names;
        for (size_t i = 0; i < params.size(); ++i) names.push_back("p" + std::to_string(i));
        auto optimizer = makeOptimizer(OptimizerConfig::fromJson(c.config.toStdString()), names);
        for (const auto& g : grads) optimizer->step(params, g);
        QCOMPARE(optimizer->stepCount(), c.steps);
        const SafeTensors ref = SafeTensors::read(file("step", c.name, ".out").toStdString());
        for (size_t i = 0; i < params.size(); ++i) {
            const double err = relativeError(params[i].toVector(), ref.toFloat32("p." + std::to_string(i)));
            QVERIFY2(err <= 1e-5, qPrintable(QString("parameter %1: relative error %2").arg(i).arg(err)));
        }
        size_t refSlots = 0;
        for (const NamedArray& a : ref.arrays()) refSlots += a.name.rfind("state.", 0) == 0 ? 1 : 0;
        const auto state = optimizer->state();
        QCOMPARE(state.size(), refSlots);
        for (const auto& [name, tensor] : state) {
            const std::string param = name.substr(1, name.find('.') - 1);
            const std::string slot = name.substr(name.find('.') + 1);
            const double err = relativeError(tensor.toVector(), ref.toFloat32("state." + param + "." + slot));
            QVERIFY2(err <= 1e-5, qPrintable(QString("%1: relative error %2").arg(name.c_str()).arg(err)));
        }
    }

    void badSettingsAreErrors() {
        QVERIFY_THROWS_EXCEPTION(raven::Error, OptimizerConfig::fromJson(R"({"type": "sgd", "nesterov": true})"));
        QVERIFY_THROWS_EXCEPTION(raven::Error, OptimizerConfig::fromJson(R"({"type": "adam", "betas": [1.5, 0.9]})"));
        QVERIFY_THROWS_EXCEPTION(raven::Error, OptimizerConfig::fromJson(R"({"type": "rmsprop"})"));
        QVERIFY_THROWS_EXCEPTION(raven::Error, OptimizerConfig::fromJson(R"({"type": "adam", "momentum": 0.9})"));
        auto opt = makeOptimizer(OptimizerConfig{}, {"w"});
        QVERIFY_THROWS_EXCEPTION(raven::Error, opt->step({zeros({2})}, {zeros({3})}));
        QVERIFY_THROWS_EXCEPTION(raven::Error, opt->loadState({{"w.velocity", zeros({2})}}, 1));
    }

    // loadState() copies: into a slot's own memory where it has one of the shape (the coordinator
    // reloads a step's whole state each step), never sharing the source's, and it continues exactly
    // as the source does.
    void loadedStateIsACopyThatStepsAsTheSource() {
        const OptimizerConfig config = OptimizerConfig::defaults(OptimizerKind::Adam);
        auto source = makeOptimizer(config, {"w"});
        auto copy = makeOptimizer(config, {"w"});
        Tensor w = fromVector({3}, {1.0f, -2.0f, 0.5f});
        source->step({w}, {fromVector({3}, {0.1f, 0.2f, -0.3f})});
        Tensor wCopy = w.clone();
        copy->step({wCopy}, {fromVector({3}, {9.0f, 9.0f, 9.0f})});  // slots of its own, other values
        const auto slotsBefore = copy->state();
        std::map<std::string, Tensor> state;
        for (const auto& [name, tensor] : source->state()) state.emplace(name, tensor);
        copy->loadState(state, source->stepCount());
        wCopy = w.clone();
        QCOMPARE(copy->stepCount(), source->stepCount());
        for (const auto& [name, tensor] : copy->state()) {
            QCOMPARE(tensor.toVector(), state.at(name).toVector());
            QVERIFY(!tensor.sharesStorageWith(state.at(name)));
        }
        for (std::size_t i = 0; i < slotsBefore.size(); ++i)  // the slots' own memory, reused
            QVERIFY(copy->state()[i].second.sharesStorageWith(slotsBefore[i].second));
        const Tensor g = fromVector({3}, {-0.4f, 0.05f, 0.7f});
        source->step({w}, {g});
        copy->step({wCopy}, {g});
        QCOMPARE(wCopy.toVector(), w.toVector());
        for (std::size_t i = 0; i < slotsBefore.size(); ++i)
            QCOMPARE(copy->state()[i].second.toVector(), source->state()[i].second.toVector());
        // Loading an optimizer's own state into itself leaves it as it was.
        std::map<std::string, Tensor> own;
        for (const auto& [name, tensor] : copy->state()) own.emplace(name, tensor);
        const std::vector<float> firstSlot = copy->state()[0].second.toVector();
        copy->loadState(own, copy->stepCount());
        QCOMPARE(copy->state()[0].second.toVector(), firstSlot);
    }

    void undefinedGradientLeavesParameter() {
        auto opt = makeOptimizer(OptimizerConfig::defaults(OptimizerKind::Adam), {"a", "b"});
        Tensor a = ones({3}), b = ones({2});
        opt->step({a, b}, {full({3}, 0.5f), Tensor()});
        QCOMPARE(b.toVector(), (std::vector<float>{1, 1}));
        QVERIFY(a.toVector()[0] < 1.0f);
        QCOMPARE(opt->state().size(), size_t(2));
    }

    void schedulesMatchTorch_data() {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < kScheduleCases.size(); ++i)
            QTest::newRow(qPrintable(kScheduleCases[i].name)) << static_cast<int>(i);
    }

    void schedulesMatchTorch() {
        REQUIRE_TORCH();
        QFETCH(int, index);
        const Case& c = kScheduleCases[static_cast<size_t>(index)];
        const LrSchedule s = LrSchedule::fromJson(c.config.toStdString(), kScheduleBase);
        QFile out(file("schedule", c.name, ".json"));
        QVERIFY(out.open(QIODevice::ReadOnly));
        const QJsonArray ref = QJsonDocument::fromJson(out.readAll()).array();
        QCOMPARE(ref.size(), c.steps);
        for (int t = 0; t < c.steps; ++t)
            QVERIFY2(std::fabs(s.at(t) - ref[t].toDouble()) <= 1e-5 * std::max(1e-3, ref[t].toDouble()),
                     qPrintable(QString("step %1: %2 vs %3").arg(t).arg(s.at(t)).arg(ref[t].toDouble())));
    }

    void clippingMatchesTorch_data() {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < kClipCases.size(); ++i)
            QTest::newRow(qPrintable(kClipCases[i].name)) << static_cast<int>(i);
    }

    void clippingMatchesTorch() {
        REQUIRE_TORCH();
        QFETCH(int, index);
        const Case& c = kClipCases[static_cast<size_t>(index)];
        std::vector<Tensor> grads = clipInputs();
        const Tensor total = clipGradNorm(grads, c.config.toDouble());
        const SafeTensors ref = SafeTensors::read(file("clip", c.name, ".out").toStdString());
        QVERIFY(relativeError({total.item()}, ref.toFloat32("total_norm")) <= 1e-5);
        for (size_t i = 0; i < grads.size(); ++i)
            QVERIFY(relativeError(grads[i].toVector(), ref.toFloat32("g." + std::to_string(i))) <= 1e-5);
        QVERIFY_THROWS_EXCEPTION(raven::Error, clipGradNorm(grads, 0.0));
    }
};

QTEST_GUILESS_MAIN(TestOptimizers)
#include "tst_Optimizers.moc"
