// raven grad: the loss and every parameter's gradient for one batch, for comparing frameworks. Weights
// come from a safetensors file under PyTorch's names (a Raven checkpoint or a torch state_dict saved as
// safetensors); the batch is a safetensors file with `x` (inputs) and `y` (class indices or targets).
// The output holds `loss` (a scalar) and one gradient per parameter, under the parameter's name.
#include <QCommandLineParser>
#include <cstdio>

#include "AppInfo.h"
#include "Commands.h"
#include "base/Error.h"
#include "checkpoint/Checkpoint.h"
#include "checkpoint/SafeTensors.h"
#include "nn/Model.h"
#include "tensor/Shape.h"

namespace raven::cli {

namespace {

Tensor tensorFrom(const NamedArray& array) {
    const std::vector<float> values = array.toFloat32();
    return fromVector(Shape(array.shape.begin(), array.shape.end()), values);
}

const NamedArray& required(const SafeTensors& file, const std::string& name, const std::string& path) {
    const NamedArray* a = file.find(name);
    RAVEN_CHECK(a, path + " has no tensor named '" + name + "'",
                "the batch file needs 'x' (inputs, [B, ...input shape]) and 'y' (targets)");
    return *a;
}

}  // namespace

int gradCommand(const QStringList& args) {
    QCommandLineParser p;
    app::addStandardOptions(p, "Loss and every parameter's gradient for one batch (to compare with other frameworks).");
    p.addOptions({{{"m", "model"}, "The model spec (JSON).", "spec.json"},
                  {{"w", "weights"}, "Parameters by PyTorch name (safetensors).", "weights.safetensors"},
                  {{"i", "inputs"}, "The batch: tensors x and y (safetensors).", "batch.safetensors"},
                  {{"o", "out"}, "Where to write loss and gradients (safetensors).", "grads.safetensors"},
                  {"eval", "Evaluation mode (batch norm uses running statistics, no dropout)."}});
    p.process(args);
    for (const char* o : {"model", "weights", "inputs", "out"}) {
        RAVEN_CHECK(p.isSet(o), std::string("raven grad needs --") + o, "see `raven grad --help`");
    }

    nn::Model model(nn::ModelSpec::load(p.value("model").toStdString()));
    const std::string weightsPath = p.value("weights").toStdString();
    const SafeTensors weights = SafeTensors::read(weightsPath);
    std::map<std::string, Tensor> state;
    for (const NamedArray& a : weights.arrays()) {
        // A Raven checkpoint also carries the optimizer's state; only the model's tensors load here.
        if (a.name.rfind(Checkpoint::kOptimizerStatePrefix, 0) == 0) continue;
        state.emplace(a.name, tensorFrom(a));
    }
    model.loadStateDict(state, /*strict=*/true);
    if (p.isSet("eval")) model.eval();

    const std::string inputsPath = p.value("inputs").toStdString();
    const SafeTensors batch = SafeTensors::read(inputsPath);
    const Tensor x = tensorFrom(required(batch, "x", inputsPath));
    const Tensor y = tensorFrom(required(batch, "y", inputsPath));

    model.zeroGrad();
    Variable loss = model.loss(model.forward(x), y);
    const float lossValue = loss.item();
    loss.backward();

    SafeTensors out;
    out.metadata["format"] = "raven-gradients";
    out.putFloat32("loss", {}, std::vector<float>{lossValue});
    for (const auto& param : model.parameters()) {
        RAVEN_CHECK(param.value.hasGrad(), "parameter " + param.name + " received no gradient",
                    "every parameter of the spec should take part in the loss");
        const Tensor& g = param.value.grad();
        out.putFloat32(param.name, g.shape(), g.toVector());
    }
    out.write(p.value("out").toStdString());
    std::printf("loss %.6f; %zu gradients written to %s\n", lossValue, model.parameters().size(),
                p.value("out").toLocal8Bit().constData());
    return 0;
}

}  // namespace raven::cli
