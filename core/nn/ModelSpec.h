#pragma once
// ModelSpec: a requester's model, as the declarative JSON that contributors interpret (the format is
// documented in docs/model-spec.md; examples/ holds an MLP, a CNN and a small transformer).
//
//   {
//     "name": "mlp",
//     "input": {"shape": [1, 28, 28]},                 // one sample, without the batch dimension
//     "layers": [
//       {"name": "flatten", "kind": "flatten"},
//       {"name": "fc1", "kind": "linear", "out": 256},
//       {"name": "act1", "kind": "relu"},
//       {"name": "fc2", "kind": "linear", "out": 10}
//     ],
//     "loss": {"kind": "cross_entropy", "label_smoothing": 0.0},
//     "init": {"scheme": "kaiming_uniform", "seed": 1}
//   }
//
// Parsing checks the structure only (names, kinds, nesting, loss and init); each layer's own fields
// are checked when the layer is built against its input shape (nn/Architecture.h), because whether a
// field is valid often depends on that shape. Either way an error is a raven::Error that names the
// spec, the layer's place ("layers[2] \"b0\" > layers[1] \"attn\""), its kind and the field.
#include <QJsonObject>

#include <cstdint>
#include <string>
#include <vector>

namespace raven::nn {

using Shape = std::vector<std::int64_t>;

struct LayerSpec {
    std::string name;               // a C-like identifier, unique among its siblings; prefixes parameter names
    std::string kind;               // "linear", "conv2d", "residual", ... (see LayerRegistry.h)
    QJsonObject fields;             // the kind-specific fields (everything except name, kind and layers)
    std::vector<LayerSpec> layers;  // the inner sequence of a "residual" block; empty otherwise
    std::string place;              // where it stands, for messages: layers[2] "b0" > layers[1] "attn" (self_attention)
};

enum class LossKind { CrossEntropy, MeanSquaredError };

struct LossSpec {
    LossKind kind = LossKind::CrossEntropy;
    float labelSmoothing = 0.0f;  // cross_entropy only, in [0, 1)
};

// How weights are drawn (biases and norms follow PyTorch's rules for each scheme, see Init.h).
enum class InitScheme {
    KaimingUniform,  // PyTorch's default for Linear and Conv2d: kaiming_uniform_(a=sqrt(5)), U(+-1/sqrt(fan_in))
    KaimingNormal,   // N(0, 2/fan_in) (He et al., for ReLU networks); biases zero
    XavierUniform,   // U(+-sqrt(6/(fan_in+fan_out))) (Glorot and Bengio); biases zero
};
std::string toString(InitScheme scheme);  // "kaiming_uniform", ...
InitScheme initSchemeFromString(const std::string& s, const std::string& where);

struct InitSpec {
    InitScheme scheme = InitScheme::KaimingUniform;
    std::uint64_t seed = 0;
};

struct ModelSpec {
    std::string name;
    Shape inputShape;  // per sample: [1,28,28] for an image, [T] for a context of token ids
    std::vector<LayerSpec> layers;
    LossSpec loss;
    InitSpec init;
    std::string origin;  // the file (or "<memory>") it came from, for messages
    std::string json;    // the text it was parsed from (stored in checkpoints)

    // Parses JSON text; `origin` names it in errors.
    static ModelSpec parse(const std::string& json, const std::string& origin = "<memory>");
    // Reads and parses a file; an unreadable file is a raven::Error naming it.
    static ModelSpec load(const std::string& path);
};

// "model spec mlp.json: layers[1] \"fc1\" (linear): field \"out\": must be a positive integer": the
// one shape of every spec error, so that a person finds the place at once.
[[noreturn]] void specError(const std::string& origin, const std::string& place, const std::string& problem,
                            const std::string& hint = {});

}  // namespace raven::nn
