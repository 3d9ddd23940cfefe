#pragma once
// OnnxWriter: the few messages of the ONNX protobuf schema (onnx/onnx.proto, IR version 8, opset 17)
// that a model needs, written as protobuf bytes by hand: varints and length-delimited fields are
// all it takes, so no ONNX or protobuf library is linked for it. Field numbers are onnx.proto's.
//
//   OnnxGraph g;
//   g.addInput("input", {"batch", 784});
//   g.addInitializer("fc.weight", {10, 784}, weights);
//   g.addNode("MatMul", {"input", "fc.weight_t"}, {"logits"});
//   g.addOutput("logits", {"batch", 10});
//   QByteArray bytes = onnxModel(g, {{"raven.classes", "[...]"}});   // a .onnx file
#include <QByteArray>
#include <QString>
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace raven::console {

// One attribute of a node: an integer, a float, a list of integers, or a string.
using OnnxAttribute = std::variant<std::int64_t, float, std::vector<std::int64_t>, std::string>;

// A tensor's dimension: a fixed size or a symbolic name ("batch").
using OnnxDim = std::variant<std::int64_t, std::string>;

class OnnxGraph {
public:
    explicit OnnxGraph(std::string name) : name_(std::move(name)) {}

    void addInput(const std::string& name, const std::vector<OnnxDim>& shape);
    void addOutput(const std::string& name, const std::vector<OnnxDim>& shape);
    // A float32 constant (weights, normalization statistics, shapes' helper values).
    void addInitializer(const std::string& name, const std::vector<std::int64_t>& dims,
                        const std::vector<float>& values);
    // An int64 constant (Reshape's shape, Slice's bounds).
    void addInt64Initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                             const std::vector<std::int64_t>& values);
    void addNode(const std::string& opType, const std::vector<std::string>& inputs,
                 const std::vector<std::string>& outputs, const std::map<std::string, OnnxAttribute>& attributes = {});

    // A fresh value name with this prefix ("fc1/matmul_3").
    std::string fresh(const std::string& prefix);
    const QByteArray& bytes() const { return graph_; }
    const std::string& name() const { return name_; }

private:
    std::string name_;
    QByteArray graph_;  // GraphProto fields written so far (nodes, initializers, inputs, outputs)
    int counter_ = 0;
};

// The ModelProto around `graph`: IR version 8, the default domain at opset 17, Raven as producer,
// and `metadata` as metadata_props.
QByteArray onnxModel(const OnnxGraph& graph, const std::map<std::string, std::string>& metadata);

}  // namespace raven::console
