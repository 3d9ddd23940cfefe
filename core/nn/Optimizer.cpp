#include "nn/Optimizer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "base/Error.h"
#include "tensor/Backend.h"

namespace raven::nn {

std::string toString(OptimizerKind kind) {
    switch (kind) {
        case OptimizerKind::Sgd:
            return "sgd";
        case OptimizerKind::Adam:
            return "adam";
        case OptimizerKind::AdamW:
            return "adamw";
    }
    return "?";
}

OptimizerConfig OptimizerConfig::defaults(OptimizerKind kind) {
    OptimizerConfig c;
    c.kind = kind;
    if (kind == OptimizerKind::AdamW) c.weightDecay = 0.01;
    if (kind == OptimizerKind::Sgd) c.lr = 0.01;
    return c;
}

void OptimizerConfig::validate() const {
    const std::string name = "optimizer " + toString(kind);
    RAVEN_CHECK(lr >= 0.0, name + ": learning rate " + std::to_string(lr) + " is negative", "use lr >= 0");
    RAVEN_CHECK(weightDecay >= 0.0, name + ": weight_decay is negative", "use weight_decay >= 0");
    if (kind == OptimizerKind::Sgd) {
        RAVEN_CHECK(momentum >= 0.0, name + ": momentum is negative", "use momentum >= 0");
        RAVEN_CHECK(!nesterov || (momentum > 0.0 && dampening == 0.0),
                    name + ": Nesterov momentum needs momentum > 0 and dampening 0", "set momentum, e.g. 0.9");
    } else {
        RAVEN_CHECK(beta1 >= 0.0 && beta1 < 1.0 && beta2 >= 0.0 && beta2 < 1.0, name + ": betas must lie in [0, 1)",
                    "the usual values are [0.9, 0.999]");
        RAVEN_CHECK(eps >= 0.0, name + ": eps is negative", "the usual value is 1e-8");
    }
}

std::string OptimizerConfig::toJson() const {
    QJsonObject o;
    o["type"] = QString::fromStdString(toString(kind));
    o["lr"] = lr;
    o["weight_decay"] = weightDecay;
    if (kind == OptimizerKind::Sgd) {
        o["momentum"] = momentum;
        o["dampening"] = dampening;
        o["nesterov"] = nesterov;
    } else {
        o["betas"] = QJsonArray{beta1, beta2};
        o["eps"] = eps;
    }
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

OptimizerConfig OptimizerConfig::fromJson(const std::string& json) {
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json));
    RAVEN_CHECK(doc.isObject(), "optimizer settings are not a JSON object: " + json,
                "write e.g. {\"type\": \"adam\", \"lr\": 0.001}");
    const QJsonObject o = doc.object();
    const std::string type = o.value("type").toString("adam").toStdString();
    OptimizerKind kind = OptimizerKind::Adam;
    if (type == "sgd")
        kind = OptimizerKind::Sgd;
    else if (type == "adamw")
        kind = OptimizerKind::AdamW;
    else if (type != "adam")
        raven::fail("optimizer: unknown type \"" + type + "\"", "use sgd, adam or adamw");
    OptimizerConfig c = defaults(kind);
    auto number = [&](const char* key, double& out) {
        if (!o.contains(key)) return;
        RAVEN_CHECK(o.value(key).isDouble(), std::string("optimizer: \"") + key + "\" must be a number", "");
        out = o.value(key).toDouble();
    };
    const QStringList known = kind == OptimizerKind::Sgd
                                  ? QStringList{"type", "lr", "weight_decay", "momentum", "dampening", "nesterov"}
                                  : QStringList{"type", "lr", "weight_decay", "betas", "eps"};
    for (auto it = o.begin(); it != o.end(); ++it)
        RAVEN_CHECK(known.contains(it.key()),
                    "optimizer " + type + ": unknown setting \"" + it.key().toStdString() + "\"",
                    "known: " + known.join(", ").toStdString());
    number("lr", c.lr);
    number("weight_decay", c.weightDecay);
    number("momentum", c.momentum);
    number("dampening", c.dampening);
    number("eps", c.eps);
    if (o.contains("nesterov")) c.nesterov = o.value("nesterov").toBool();
    if (o.contains("betas")) {
        const QJsonArray b = o.value("betas").toArray();
        RAVEN_CHECK(b.size() == 2 && b[0].isDouble() && b[1].isDouble(),
                    "optimizer: \"betas\" must be a pair of numbers", "e.g. [0.9, 0.999]");
        c.beta1 = b[0].toDouble();
        c.beta2 = b[1].toDouble();
    }
    c.validate();
    return c;
}

Optimizer::Optimizer(OptimizerConfig config, std::vector<std::string> names)
    : config_(config), names_(std::move(names)), slots_(names_.size()), shapes_(names_.size()) {
    config_.validate();
}

void Optimizer::step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads) {
    RAVEN_CHECK(params.size() == names_.size() && grads.size() == names_.size(),
                "optimizer step: " + std::to_string(params.size()) + " parameters and " + std::to_string(grads.size()) +
                    " gradients given, but it was made for " + std::to_string(names_.size()),
                "pass every parameter in the order of the names");
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (!grads[i].defined()) continue;
        RAVEN_CHECK(params[i].shape() == grads[i].shape(),
                    "optimizer step: parameter " + names_[i] + " is " + shapeToString(params[i].shape()) +
                        " but its gradient is " + shapeToString(grads[i].shape()),
                    "");
        RAVEN_CHECK(shapes_[i].empty() || shapes_[i] == params[i].shape(),
                    "optimizer step: parameter " + names_[i] + " is " + shapeToString(params[i].shape()) +
                        " but its optimizer state is " + shapeToString(shapes_[i]),
                    "make a new optimizer for a new model");
        shapes_[i] = params[i].shape();
    }
    ++steps_;
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (!grads[i].defined()) continue;
        const Tensor next = update(i, params[i], grads[i]);
        params[i].backend().copyInto(params[i], next);
    }
}

std::vector<std::pair<std::string, Tensor>> Optimizer::state() const {
    std::vector<std::pair<std::string, Tensor>> out;
    for (std::size_t i = 0; i < names_.size(); ++i)
        for (const auto& [slot, tensor] : slots_[i]) out.emplace_back(names_[i] + "." + slot, tensor);
    return out;
}

void Optimizer::loadState(const std::map<std::string, Tensor>& state, std::int64_t steps) {
    RAVEN_CHECK(steps >= 0, "optimizer state: negative step count " + std::to_string(steps), "");
    std::map<std::string, std::pair<std::size_t, std::string>> known;
    for (std::size_t i = 0; i < names_.size(); ++i)
        for (const std::string& slot : slotNames()) known[names_[i] + "." + slot] = {i, slot};
    std::vector<std::map<std::string, Tensor>> loaded(slots_.size());
    std::vector<Shape> shapes = shapes_;
    for (const auto& [name, tensor] : state) {
        const auto it = known.find(name);
        RAVEN_CHECK(it != known.end(),
                    "optimizer state: \"" + name + "\" is not a slot of this " + toString(config_.kind) +
                        " optimizer's parameters",
                    "was the checkpoint written for another model or optimizer?");
        const auto [i, slot] = it->second;
        RAVEN_CHECK(shapes[i].empty() || shapes[i] == tensor.shape(),
                    "optimizer state: \"" + name + "\" is " + shapeToString(tensor.shape()) + " but the parameter is " +
                        shapeToString(shapes[i]),
                    "");
        // Into the slot's own memory where it has one of that shape on that backend (the coordinator
        // copies a step's whole state each step, JobRunner::copyStateAhead); else a copy of its own.
        const auto mine = slots_[i].find(slot);
        if (mine != slots_[i].end() && mine->second.shape() == tensor.shape() &&
            &mine->second.backend() == &tensor.backend() && mine->second.isContiguous() &&
            !mine->second.sharesStorageWith(tensor)) {
            tensor.backend().copyInto(mine->second, tensor);
            loaded[i][slot] = mine->second;
        } else {
            loaded[i][slot] = tensor.clone();
        }
        shapes[i] = tensor.shape();
    }
    slots_ = std::move(loaded);
    shapes_ = std::move(shapes);
    steps_ = steps;
}

}  // namespace raven::nn
