#include "requester/Hyperparameters.h"

#include <QStringList>

#include <cmath>

#include "base/Error.h"

namespace raven::requester {

void setOuterStep(wire::LocalStepsPlan& plan, std::optional<double> rate, std::optional<double> momentum) {
    const bool stale = plan.staleness() > 0;
    const double r = rate.value_or(stale ? kStaleOuterLearningRate : kOuterLearningRate);
    const double m = momentum.value_or(stale ? kStaleOuterMomentum : kOuterMomentum);
    RAVEN_CHECK(std::isfinite(r) && r > 0.0, "the outer learning rate must be more than 0, not " + std::to_string(r),
                "DiLoCo uses 0.7 (0.35 with staleness 1)");
    RAVEN_CHECK(std::isfinite(m) && m >= 0.0 && m < 1.0,
                "the outer momentum must be in [0, 1), not " + std::to_string(m),
                "DiLoCo uses 0.9 (0.5 with staleness 1); 0 for none");
    plan.set_outer_learning_rate(r);
    plan.set_outer_momentum(m == 0.0 ? -1.0 : m);  // on the wire 0 means the coordinator's default, below 0 none
}

void setOptimizer(wire::Hyperparameters& hyperparameters, const nn::OptimizerConfig& config) {
    config.validate();
    std::string name = nn::toString(config.kind);
    if (config.kind == nn::OptimizerKind::Sgd && config.momentum > 0) name = "momentum";
    hyperparameters.set_optimizer(name);
    hyperparameters.set_learning_rate(config.lr);
    hyperparameters.set_momentum(config.momentum);
    hyperparameters.set_beta1(config.beta1);
    hyperparameters.set_beta2(config.beta2);
    hyperparameters.set_epsilon(config.eps);
    hyperparameters.set_weight_decay(config.weightDecay);
}

wire::GradientEncoding gradientEncodingFromName(const QString& name) {
    const QString n = name.trimmed().toLower();
    if (n == QLatin1String("fp32")) return wire::GRADIENT_ENCODING_FP32;
    if (n == QLatin1String("fp16")) return wire::GRADIENT_ENCODING_FP16;
    if (n == QLatin1String("bf16")) return wire::GRADIENT_ENCODING_BF16;
    if (n == QLatin1String("int8")) return wire::GRADIENT_ENCODING_INT8_BLOCK;
    fail("unknown update encoding '" + name.toStdString() + "'",
         "use fp32 (exact), fp16 or bf16 (half the bytes on the wire) or int8 (a quarter, stochastic rounding)");
}

QString gradientEncodingName(wire::GradientEncoding encoding) {
    switch (encoding) {
        case wire::GRADIENT_ENCODING_FP16:
            return QStringLiteral("fp16");
        case wire::GRADIENT_ENCODING_BF16:
            return QStringLiteral("bf16");
        case wire::GRADIENT_ENCODING_INT8_BLOCK:
            return QStringLiteral("int8");
        default:
            return QStringLiteral("fp32");
    }
}

namespace {

const char* kScheduleForms =
    "write constant, step:every=200,gamma=0.5, cosine, or cosine:min=1e-5,warmup=100,start=0.01,cycle=5000";

double scheduleNumber(const QString& key, const QString& value) {
    bool ok = false;
    const double v = value.toDouble(&ok);
    RAVEN_CHECK(ok && v >= 0 && std::isfinite(v),
                "learning-rate schedule: " + key.toStdString() + "=" + value.toStdString() + " is not a number >= 0",
                kScheduleForms);
    return v;
}

std::uint64_t scheduleSteps(const QString& key, const QString& value) {
    bool ok = false;
    const qulonglong v = value.toULongLong(&ok);
    RAVEN_CHECK(ok, "learning-rate schedule: " + key.toStdString() + "=" + value.toStdString() + " is not a step count",
                kScheduleForms);
    return v;
}

}  // namespace

wire::LearningRateSchedule lrScheduleFromText(const QString& text) {
    wire::LearningRateSchedule s;
    const QString t = text.trimmed().toLower();
    const QString kind = t.section(QLatin1Char(':'), 0, 0);
    const QString rest = t.section(QLatin1Char(':'), 1);
    if (kind == QLatin1String("constant") || kind.isEmpty()) {
        s.set_kind(wire::LEARNING_RATE_SCHEDULE_KIND_CONSTANT);
    } else if (kind == QLatin1String("step")) {
        s.set_kind(wire::LEARNING_RATE_SCHEDULE_KIND_STEP);
        s.set_gamma(0.1);  // StepLR's default
    } else if (kind == QLatin1String("cosine")) {
        s.set_kind(wire::LEARNING_RATE_SCHEDULE_KIND_COSINE);
    } else {
        fail("unknown learning-rate schedule '" + kind.toStdString() + "'", kScheduleForms);
    }
    for (const QString& part : rest.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QString key = part.section(QLatin1Char('='), 0, 0).trimmed();
        const QString value = part.section(QLatin1Char('='), 1).trimmed();
        const bool step = s.kind() == wire::LEARNING_RATE_SCHEDULE_KIND_STEP;
        const bool cosine = s.kind() == wire::LEARNING_RATE_SCHEDULE_KIND_COSINE;
        if (step && key == QLatin1String("every"))
            s.set_step_size(scheduleSteps(key, value));
        else if (step && key == QLatin1String("gamma"))
            s.set_gamma(scheduleNumber(key, value));
        else if (cosine && key == QLatin1String("min"))
            s.set_min_learning_rate(scheduleNumber(key, value));
        else if (cosine && key == QLatin1String("warmup"))
            s.set_warmup_steps(scheduleSteps(key, value));
        else if (cosine && key == QLatin1String("start"))
            s.set_warmup_start_factor(scheduleNumber(key, value));
        else if (cosine && key == QLatin1String("cycle"))
            s.set_cycle_steps(scheduleSteps(key, value));
        else
            fail("learning-rate schedule: '" + part.toStdString() + "' is not a setting of " + kind.toStdString(),
                 kScheduleForms);
    }
    RAVEN_CHECK(s.kind() != wire::LEARNING_RATE_SCHEDULE_KIND_STEP || s.step_size() > 0,
                "learning-rate schedule: a step decay needs every=<steps>", kScheduleForms);
    return s;
}

QString lrScheduleText(const wire::LearningRateSchedule& s) {
    switch (s.kind()) {
        case wire::LEARNING_RATE_SCHEDULE_KIND_STEP:
            return QStringLiteral("step:every=%1,gamma=%2").arg(s.step_size()).arg(s.gamma());
        case wire::LEARNING_RATE_SCHEDULE_KIND_COSINE: {
            QStringList parts;
            if (s.min_learning_rate() != 0.0) parts << QStringLiteral("min=%1").arg(s.min_learning_rate());
            if (s.warmup_steps() != 0) parts << QStringLiteral("warmup=%1").arg(s.warmup_steps());
            if (s.warmup_start_factor() != 0.0) parts << QStringLiteral("start=%1").arg(s.warmup_start_factor());
            if (s.cycle_steps() != 0) parts << QStringLiteral("cycle=%1").arg(s.cycle_steps());
            return parts.isEmpty() ? QStringLiteral("cosine")
                                   : QStringLiteral("cosine:") + parts.join(QLatin1Char(','));
        }
        default:
            return QStringLiteral("constant");
    }
}

QString describeLrSchedule(const wire::LearningRateSchedule& s) {
    switch (s.kind()) {
        case wire::LEARNING_RATE_SCHEDULE_KIND_STEP:
            return QStringLiteral("step decay ×%1 every %2 steps").arg(s.gamma()).arg(s.step_size());
        case wire::LEARNING_RATE_SCHEDULE_KIND_COSINE: {
            QString text = QStringLiteral("cosine to %1").arg(s.min_learning_rate());
            if (s.cycle_steps() != 0) text += QStringLiteral(" over %1 steps").arg(s.cycle_steps());
            if (s.warmup_steps() != 0)
                text += QStringLiteral(" after %1 warm-up steps from ×%2")
                            .arg(s.warmup_steps())
                            .arg(s.warmup_start_factor() == 0.0 ? 1.0 / 3.0 : s.warmup_start_factor(), 0, 'g', 3);
            return text;
        }
        default:
            return QStringLiteral("constant");
    }
}

}  // namespace raven::requester
