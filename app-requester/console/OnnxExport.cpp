#include "OnnxExport.h"

#include <QSaveFile>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numbers>
#include <set>

#include "ModelExport.h"
#include "OnnxWriter.h"
#include "base/Error.h"
#include "nn/Model.h"
#include "nn/ModelCheckpoint.h"
#include "nn/SpecFields.h"

namespace raven::console {

namespace {

using Ints = std::vector<std::int64_t>;

// Builds the graph layer by layer; each emit returns the name of the layer's output value.
class GraphBuilder {
public:
    GraphBuilder(OnnxGraph& g, const std::map<std::string, Tensor>& state) : g_(g), state_(state) {}

    std::string sequence(const std::vector<std::unique_ptr<nn::Layer>>& layers, const std::vector<nn::LayerSpec>& specs,
                         std::string x) {
        for (std::size_t i = 0; i < layers.size(); ++i) x = layer(*layers[i], specs[i], x);
        return x;
    }

    std::string layer(const nn::Layer& l, const nn::LayerSpec& spec, const std::string& x) {
        nn::SpecFields f(spec, "export");
        const std::string& k = l.kind();
        const std::string out = l.name();
        if (k == "linear") return linear(l.name(), x, f.boolean("bias", true), out);
        if (k == "conv2d") {
            const auto [kh, kw] = f.pair("kernel_size", {1, 1}, 1, true);
            const auto [sh, sw] = f.pair("stride", {1, 1}, 1);
            const auto [ph, pw] = f.pair("padding", {0, 0}, 0);
            const auto [dh, dw] = f.pair("dilation", {1, 1}, 1);
            const std::int64_t groups = f.integer("groups", 1, 1);
            std::vector<std::string> in{x, weight(l.name() + ".weight")};
            if (f.boolean("bias", true)) in.push_back(weight(l.name() + ".bias"));
            g_.addNode("Conv", in, {out},
                       {{"kernel_shape", Ints{kh, kw}},
                        {"strides", Ints{sh, sw}},
                        {"pads", Ints{ph, pw, ph, pw}},
                        {"dilations", Ints{dh, dw}},
                        {"group", groups}});
            return out;
        }
        if (k == "max_pool2d" || k == "avg_pool2d") {
            const auto [kh, kw] = f.pair("kernel_size", {1, 1}, 1, true);
            const auto [sh, sw] = f.pair("stride", {kh, kw}, 1);
            const auto [ph, pw] = f.pair("padding", {0, 0}, 0);
            std::map<std::string, OnnxAttribute> a{
                {"kernel_shape", Ints{kh, kw}}, {"strides", Ints{sh, sw}}, {"pads", Ints{ph, pw, ph, pw}}};
            if (k == "avg_pool2d") a["count_include_pad"] = std::int64_t(f.boolean("count_include_pad", true) ? 1 : 0);
            g_.addNode(k == "max_pool2d" ? "MaxPool" : "AveragePool", {x}, {out}, a);
            return out;
        }
        if (k == "flatten" || k == "reshape") {
            Ints shape{0};  // 0: the batch, copied from the input
            shape.insert(shape.end(), l.outputShape().begin(), l.outputShape().end());
            g_.addNode("Reshape", {x, ints(out + "/shape", shape)}, {out});
            return out;
        }
        if (k == "relu" || k == "tanh" || k == "sigmoid") {
            g_.addNode(k == "relu" ? "Relu" : k == "tanh" ? "Tanh" : "Sigmoid", {x}, {out});
            return out;
        }
        if (k == "softmax") {
            g_.addNode("Softmax", {x}, {out}, {{"axis", std::int64_t(-1)}});
            return out;
        }
        if (k == "gelu") return gelu(x, f.string("approximate", "none") == "tanh", out);
        if (k == "dropout") {
            g_.addNode("Identity", {x}, {out});  // inference: no units dropped, no scaling
            return out;
        }
        if (k == "layer_norm") {
            const std::int64_t features = l.inputShape().back();
            const bool affine = f.boolean("elementwise_affine", true);
            g_.addNode("LayerNormalization",
                       {x, affine ? weight(l.name() + ".weight") : constant(out + "/ones", {features}, 1.0f),
                        affine ? weight(l.name() + ".bias") : constant(out + "/zeros", {features}, 0.0f)},
                       {out}, {{"axis", std::int64_t(-1)}, {"epsilon", float(f.number("eps", 1e-5, 0.0, 1.0))}});
            return out;
        }
        if (k == "batch_norm") {
            const std::int64_t channels = l.inputShape().front();
            const bool affine = f.boolean("affine", true);
            g_.addNode("BatchNormalization",
                       {x, affine ? weight(l.name() + ".weight") : constant(out + "/ones", {channels}, 1.0f),
                        affine ? weight(l.name() + ".bias") : constant(out + "/zeros", {channels}, 0.0f),
                        weight(l.name() + ".running_mean"), weight(l.name() + ".running_var")},
                       {out}, {{"epsilon", float(f.number("eps", 1e-5, 0.0, 1.0))}});
            return out;
        }
        if (k == "embedding") {
            // Token ids travel as floats (as datasets store them); Gather wants integers.
            const std::string ids = g_.fresh(out + "/ids");
            g_.addNode("Cast", {x}, {ids}, {{"to", std::int64_t(7)}});  // INT64
            g_.addNode("Gather", {weight(l.name() + ".weight"), ids}, {out}, {{"axis", std::int64_t(0)}});
            return out;
        }
        if (k == "positional_embedding") {
            const std::string rows = g_.fresh(out + "/rows");
            g_.addNode("Slice",
                       {weight(l.name() + ".weight"), ints(out + "/start", {1}, {0}),
                        ints(out + "/end", {1}, {l.inputShape().front()}), ints(out + "/axis", {1}, {0})},
                       {rows});
            g_.addNode("Add", {x, rows}, {out});
            return out;
        }
        if (k == "self_attention") return attention(l, f, x, out);
        if (k == "residual") {
            const std::vector<const nn::Layer*> inner = l.children();
            std::string h = x;
            for (std::size_t i = 0; i < inner.size(); ++i) h = layer(*inner[i], spec.layers[i], h);
            g_.addNode("Add", {x, h}, {out});
            return out;
        }
        raven::fail("layer " + l.name() + ": the kind \"" + k + "\" has no ONNX form in this version",
                    "export it as safetensors instead");
    }

private:
    // A parameter or buffer of the checkpoint, as an initializer under its PyTorch name (once).
    std::string weight(const std::string& name) {
        if (written_.insert(name).second) {
            auto it = state_.find(name);
            RAVEN_CHECK(it != state_.end(), "the checkpoint holds no tensor \"" + name + "\"",
                        "export a checkpoint of this model (its spec and tensors belong together)");
            const Tensor& t = it->second;
            g_.addInitializer(name, t.shape(), t.contiguous().toVector());
        }
        return name;
    }
    std::string constant(const std::string& name, const Ints& dims, float value) {
        std::int64_t n = 1;
        for (auto d : dims) n *= d;
        g_.addInitializer(name, dims, std::vector<float>(std::size_t(n), value));
        return name;
    }
    std::string scalar(const std::string& name, float value) {
        g_.addInitializer(name, {}, {value});
        return name;
    }
    std::string ints(const std::string& name, const Ints& values) {
        return ints(name, {std::int64_t(values.size())}, values);
    }
    std::string ints(const std::string& name, const Ints& dims, const Ints& values) {
        g_.addInt64Initializer(name, dims, values);
        return name;
    }

    // x W^T (+ b) over the last axis; W is [out, in] as PyTorch keeps it.
    std::string linear(const std::string& prefix, const std::string& x, bool bias, const std::string& out,
                       const std::string& weightName = "weight", const std::string& biasName = "bias") {
        const std::string wt = g_.fresh(prefix + "/weight_t");
        g_.addNode("Transpose", {weight(prefix + "." + weightName)}, {wt}, {{"perm", Ints{1, 0}}});
        const std::string product = bias ? g_.fresh(prefix + "/matmul") : out;
        g_.addNode("MatMul", {x, wt}, {product});
        if (bias) g_.addNode("Add", {product, weight(prefix + "." + biasName)}, {out});
        return out;
    }

    std::string gelu(const std::string& x, bool tanhForm, const std::string& out) {
        // Opset 17 has no Gelu: 0.5 x (1 + erf(x / sqrt 2)), or the tanh approximation.
        const std::string inner = g_.fresh(out + "/inner");
        if (tanhForm) {
            const std::string cube = g_.fresh(out + "/cube"), scaled = g_.fresh(out + "/scaled"),
                              sum = g_.fresh(out + "/sum"), arg = g_.fresh(out + "/arg");
            g_.addNode("Pow", {x, scalar(g_.fresh(out + "/three"), 3.0f)}, {cube});
            g_.addNode("Mul", {cube, scalar(g_.fresh(out + "/c"), 0.044715f)}, {scaled});
            g_.addNode("Add", {x, scaled}, {sum});
            g_.addNode("Mul", {sum, scalar(g_.fresh(out + "/k"), float(std::sqrt(2.0 / std::numbers::pi)))}, {arg});
            g_.addNode("Tanh", {arg}, {inner});
        } else {
            const std::string arg = g_.fresh(out + "/arg");
            g_.addNode("Mul", {x, scalar(g_.fresh(out + "/rsqrt2"), float(1.0 / std::numbers::sqrt2))}, {arg});
            g_.addNode("Erf", {arg}, {inner});
        }
        const std::string onePlus = g_.fresh(out + "/one_plus"), half = g_.fresh(out + "/half_x");
        g_.addNode("Add", {inner, scalar(g_.fresh(out + "/one"), 1.0f)}, {onePlus});
        g_.addNode("Mul", {x, scalar(g_.fresh(out + "/half"), 0.5f)}, {half});
        g_.addNode("Mul", {half, onePlus}, {out});
        return out;
    }

    // PyTorch's nn.MultiheadAttention(batch_first) on x [B, T, d] (SelfAttention.cpp).
    std::string attention(const nn::Layer& l, nn::SpecFields& f, const std::string& x, const std::string& out) {
        const std::int64_t t = l.inputShape()[0], d = l.inputShape()[1];
        const std::int64_t heads = f.positiveInt("heads"), dh = d / heads;
        const bool causal = f.boolean("causal", true), bias = f.boolean("bias", true);
        const std::string& p = l.name();
        const std::string qkv = linear(p, x, bias, g_.fresh(p + "/qkv"), "in_proj_weight", "in_proj_bias");
        const std::string q = g_.fresh(p + "/q"), k = g_.fresh(p + "/k"), v = g_.fresh(p + "/v");
        g_.addNode("Split", {qkv, ints(g_.fresh(p + "/split"), {d, d, d})}, {q, k, v}, {{"axis", std::int64_t(2)}});
        const std::string headsShape = ints(g_.fresh(p + "/heads_shape"), {0, 0, heads, dh});
        auto heads4 = [&](const std::string& in, const Ints& perm) {
            const std::string r = g_.fresh(in + "/split_heads"), tr = g_.fresh(in + "/per_head");
            g_.addNode("Reshape", {in, headsShape}, {r});
            g_.addNode("Transpose", {r}, {tr}, {{"perm", perm}});
            return tr;
        };
        const std::string qh = heads4(q, {0, 2, 1, 3});  // [B, H, T, dh]
        const std::string kh = heads4(k, {0, 2, 3, 1});  // [B, H, dh, T]
        const std::string vh = heads4(v, {0, 2, 1, 3});
        const std::string scores = g_.fresh(p + "/scores"), scaled = g_.fresh(p + "/scaled");
        g_.addNode("MatMul", {qh, kh}, {scores});
        g_.addNode("Mul", {scores, scalar(g_.fresh(p + "/scale"), float(1.0 / std::sqrt(double(dh))))}, {scaled});
        std::string logits = scaled;
        if (causal) {
            // Position i sees 0..i: -inf above the diagonal, broadcast over batch and heads.
            std::vector<float> mask(std::size_t(t * t), 0.0f);
            for (std::int64_t i = 0; i < t; ++i)
                for (std::int64_t j = i + 1; j < t; ++j)
                    mask[std::size_t(i * t + j)] = -std::numeric_limits<float>::infinity();
            const std::string maskName = g_.fresh(p + "/causal_mask");
            g_.addInitializer(maskName, {t, t}, mask);
            logits = g_.fresh(p + "/masked");
            g_.addNode("Add", {scaled, maskName}, {logits});
        }
        const std::string weights = g_.fresh(p + "/attention"), mixed = g_.fresh(p + "/mixed"),
                          merged = g_.fresh(p + "/merged"), flat = g_.fresh(p + "/merged_flat");
        g_.addNode("Softmax", {logits}, {weights}, {{"axis", std::int64_t(-1)}});
        g_.addNode("MatMul", {weights, vh}, {mixed});
        g_.addNode("Transpose", {mixed}, {merged}, {{"perm", Ints{0, 2, 1, 3}}});
        g_.addNode("Reshape", {merged, ints(g_.fresh(p + "/model_shape"), {0, 0, d})}, {flat});
        return linear(p, flat, bias, out, "out_proj.weight", "out_proj.bias");
    }

    OnnxGraph& g_;
    const std::map<std::string, Tensor>& state_;
    std::set<std::string> written_;
};

std::vector<OnnxDim> batchShape(const nn::Shape& sample) {
    std::vector<OnnxDim> dims{std::string("batch")};
    for (std::int64_t s : sample) dims.emplace_back(s);
    return dims;
}

}  // namespace

void exportOnnx(const QString& checkpointPath, const data::Manifest& dataset, const QString& outPath) {
    const std::unique_ptr<nn::Model> model = nn::loadModel(checkpointPath.toStdString());
    const nn::Architecture& arch = model->architecture();
    OnnxGraph g(model->spec().name.empty() ? std::string("raven") : model->spec().name);
    g.addInput("input", batchShape(arch.inputShape()));

    // (x - mean) / std on the raw input, per channel (the first axis of a sample) or global.
    std::string x = "input";
    const data::Normalization& n = dataset.normalization;
    if (n.kind != data::NormalizationKind::None && !n.mean.empty()) {
        Ints dims;
        if (n.kind == data::NormalizationKind::PerChannel) {
            dims.push_back(std::int64_t(n.mean.size()));
            for (std::size_t i = 1; i < arch.inputShape().size(); ++i) dims.push_back(1);
        }
        g.addInitializer("normalization.mean", dims, n.mean);
        g.addInitializer("normalization.std", dims, n.std);
        g.addNode("Sub", {x, "normalization.mean"}, {"normalization/centered"});
        g.addNode("Div", {"normalization/centered", "normalization.std"}, {"normalized"});
        x = "normalized";
    }
    const std::map<std::string, Tensor> state = model->stateDict();
    GraphBuilder builder(g, state);
    const std::string last = builder.sequence(arch.layers(), model->spec().layers, x);
    g.addNode("Identity", {last}, {"output"});
    g.addOutput("output", batchShape(arch.outputShape()));

    std::map<std::string, std::string> metadata = preprocessingMetadata(dataset);
    metadata["raven.note"] = "the normalization is inside the graph: give it raw inputs";
    const QByteArray bytes = onnxModel(g, metadata);
    QSaveFile file(outPath);
    // QSaveFile reports a full disk as "Unknown error": errno, cleared before each step, says ENOSPC.
    const auto failWrite = [&] {
        const int cause = errno;
        raven::fail("cannot write '" + outPath.toStdString() +
                        "': " + (cause != 0 ? std::string(std::strerror(cause)) : file.errorString().toStdString()),
                    "choose a folder you can write to, with space for " + std::to_string(bytes.size() / 1024) + " KiB");
    };
    errno = 0;
    if (!file.open(QIODevice::WriteOnly)) failWrite();
    errno = 0;
    if (file.write(bytes) != bytes.size()) failWrite();
    errno = 0;
    if (!file.commit()) failWrite();
}

}  // namespace raven::console
