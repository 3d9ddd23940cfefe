#include "requester/Hyperparameters.h"

#include "base/Error.h"

namespace raven::requester {

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
    fail("unknown gradient encoding '" + name.toStdString() + "'",
         "use fp32 (exact), fp16 or bf16 (half the bytes on the wire)");
}

QString gradientEncodingName(wire::GradientEncoding encoding) {
    switch (encoding) {
        case wire::GRADIENT_ENCODING_FP16:
            return QStringLiteral("fp16");
        case wire::GRADIENT_ENCODING_BF16:
            return QStringLiteral("bf16");
        default:
            return QStringLiteral("fp32");
    }
}

}  // namespace raven::requester
