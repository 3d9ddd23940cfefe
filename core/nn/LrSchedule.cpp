#include "nn/LrSchedule.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "base/Error.h"

namespace raven::nn {

double LrSchedule::at(std::int64_t t) const {
    t = std::max<std::int64_t>(t, 0);
    switch (kind) {
        case LrScheduleKind::Constant:
            return base;
        case LrScheduleKind::Step:
            return base * std::pow(gamma, static_cast<double>(t / stepSize));
        case LrScheduleKind::Cosine: {
            if (t < warmupSteps)
                return base * (warmupStartFactor +
                               (1.0 - warmupStartFactor) * static_cast<double>(t) / static_cast<double>(warmupSteps));
            const double span = static_cast<double>(totalSteps - warmupSteps);
            const double into = std::min(static_cast<double>(t - warmupSteps), span);
            return minLr + (base - minLr) * (1.0 + std::cos(std::numbers::pi * into / span)) / 2.0;
        }
    }
    return base;
}

void LrSchedule::validate() const {
    RAVEN_CHECK(base >= 0.0, "learning-rate schedule: the base rate is negative", "");
    if (kind == LrScheduleKind::Step) {
        RAVEN_CHECK(stepSize >= 1, "step schedule: step_size must be at least 1", "");
        RAVEN_CHECK(gamma > 0.0, "step schedule: gamma must be positive", "the usual value is 0.1");
    }
    if (kind == LrScheduleKind::Cosine) {
        RAVEN_CHECK(warmupSteps >= 0, "cosine schedule: warmup_steps is negative", "");
        RAVEN_CHECK(totalSteps > warmupSteps,
                    "cosine schedule: total_steps (" + std::to_string(totalSteps) + ") must exceed warmup_steps (" +
                        std::to_string(warmupSteps) + ")",
                    "total_steps counts the warm-up too");
        RAVEN_CHECK(warmupStartFactor > 0.0 && warmupStartFactor <= 1.0,
                    "cosine schedule: warmup_start_factor must lie in (0, 1]", "");
        RAVEN_CHECK(minLr >= 0.0 && minLr <= base, "cosine schedule: min_lr must lie in [0, lr]", "");
    }
}

std::string LrSchedule::toJson() const {
    QJsonObject o;
    switch (kind) {
        case LrScheduleKind::Constant:
            o["kind"] = "constant";
            break;
        case LrScheduleKind::Step:
            o["kind"] = "step";
            o["step_size"] = static_cast<double>(stepSize);
            o["gamma"] = gamma;
            break;
        case LrScheduleKind::Cosine:
            o["kind"] = "cosine";
            o["warmup_steps"] = static_cast<double>(warmupSteps);
            o["warmup_start_factor"] = warmupStartFactor;
            o["total_steps"] = static_cast<double>(totalSteps);
            o["min_lr"] = minLr;
            break;
    }
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

LrSchedule LrSchedule::fromJson(const std::string& json, double base) {
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json));
    RAVEN_CHECK(doc.isObject(), "learning-rate schedule is not a JSON object: " + json,
                "write e.g. {\"kind\": \"cosine\", \"warmup_steps\": 100, \"total_steps\": 5000}");
    const QJsonObject o = doc.object();
    LrSchedule s;
    s.base = base;
    const std::string kind = o.value("kind").toString("constant").toStdString();
    if (kind == "step")
        s.kind = LrScheduleKind::Step;
    else if (kind == "cosine")
        s.kind = LrScheduleKind::Cosine;
    else if (kind != "constant")
        raven::fail("learning-rate schedule: unknown kind \"" + kind + "\"", "use constant, step or cosine");
    s.stepSize = static_cast<std::int64_t>(o.value("step_size").toDouble(1));
    s.gamma = o.value("gamma").toDouble(0.1);
    s.warmupSteps = static_cast<std::int64_t>(o.value("warmup_steps").toDouble(0));
    s.warmupStartFactor = o.value("warmup_start_factor").toDouble(1.0 / 3.0);
    s.totalSteps = static_cast<std::int64_t>(o.value("total_steps").toDouble(1));
    s.minLr = o.value("min_lr").toDouble(0.0);
    s.validate();
    return s;
}

}  // namespace raven::nn
