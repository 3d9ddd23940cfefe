#include "OnnxWriter.h"

#include <QCoreApplication>

#include <cstring>

namespace raven::console {

namespace {

// Protobuf wire types.
constexpr int kVarint = 0;
constexpr int kFixed32 = 5;
constexpr int kLengthDelimited = 2;

// onnx.proto's numbers.
namespace model {
constexpr int kIrVersion = 1, kProducerName = 2, kProducerVersion = 3, kGraph = 7, kOpsetImport = 8,
              kMetadataProps = 14;
}
namespace graph {
constexpr int kNode = 1, kName = 2, kInitializer = 5, kInput = 11, kOutput = 12;
}
namespace node {
constexpr int kInput = 1, kOutput = 2, kName = 3, kOpType = 4, kAttribute = 5;
}
namespace attribute {
constexpr int kName = 1, kF = 2, kI = 3, kS = 4, kInts = 8, kType = 20;
constexpr int kFloat = 1, kInt = 2, kString = 3, kIntsType = 7;
}  // namespace attribute
namespace tensor {
constexpr int kDims = 1, kDataType = 2, kName = 8, kRawData = 9;
constexpr int kFloat = 1, kInt64 = 7;
}  // namespace tensor
constexpr int kOnnxIrVersion = 8;
constexpr int kOpset = 17;

void varint(QByteArray& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.append(char((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.append(char(v));
}
void key(QByteArray& out, int field, int wireType) { varint(out, (std::uint64_t(field) << 3) | unsigned(wireType)); }
void intField(QByteArray& out, int field, std::int64_t v) {
    key(out, field, kVarint);
    varint(out, std::uint64_t(v));  // negative int64: ten bytes, as protobuf writes them
}
void bytesField(QByteArray& out, int field, const QByteArray& bytes) {
    key(out, field, kLengthDelimited);
    varint(out, std::uint64_t(bytes.size()));
    out.append(bytes);
}
void stringField(QByteArray& out, int field, const std::string& s) {
    bytesField(out, field, QByteArray::fromStdString(s));
}
void floatField(QByteArray& out, int field, float f) {
    key(out, field, kFixed32);
    char b[4];
    std::memcpy(b, &f, 4);  // little-endian on every platform Raven builds for
    out.append(b, 4);
}

QByteArray tensorProto(const std::string& name, const std::vector<std::int64_t>& dims, int dataType, const char* data,
                       std::size_t bytes) {
    QByteArray t;
    for (std::int64_t d : dims) intField(t, tensor::kDims, d);
    intField(t, tensor::kDataType, dataType);
    stringField(t, tensor::kName, name);
    bytesField(t, tensor::kRawData, QByteArray(data, qsizetype(bytes)));
    return t;
}

// ValueInfoProto{name, type: TypeProto{tensor_type: {elem_type FLOAT, shape}}}.
QByteArray valueInfo(const std::string& name, const std::vector<OnnxDim>& shape) {
    QByteArray dims;
    for (const OnnxDim& d : shape) {
        QByteArray dim;
        if (const auto* size = std::get_if<std::int64_t>(&d))
            intField(dim, 1, *size);  // dim_value
        else
            stringField(dim, 2, std::get<std::string>(d));  // dim_param
        bytesField(dims, 1, dim);
    }
    QByteArray tensorType;
    intField(tensorType, 1, tensor::kFloat);  // elem_type
    bytesField(tensorType, 2, dims);          // shape
    QByteArray type;
    bytesField(type, 1, tensorType);  // tensor_type
    QByteArray info;
    stringField(info, 1, name);
    bytesField(info, 2, type);
    return info;
}

}  // namespace

void OnnxGraph::addInput(const std::string& name, const std::vector<OnnxDim>& shape) {
    bytesField(graph_, graph::kInput, valueInfo(name, shape));
}

void OnnxGraph::addOutput(const std::string& name, const std::vector<OnnxDim>& shape) {
    bytesField(graph_, graph::kOutput, valueInfo(name, shape));
}

void OnnxGraph::addInitializer(const std::string& name, const std::vector<std::int64_t>& dims,
                               const std::vector<float>& values) {
    bytesField(graph_, graph::kInitializer,
               tensorProto(name, dims, tensor::kFloat, reinterpret_cast<const char*>(values.data()),
                           values.size() * sizeof(float)));
}

void OnnxGraph::addInt64Initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                                    const std::vector<std::int64_t>& values) {
    bytesField(graph_, graph::kInitializer,
               tensorProto(name, dims, tensor::kInt64, reinterpret_cast<const char*>(values.data()),
                           values.size() * sizeof(std::int64_t)));
}

void OnnxGraph::addNode(const std::string& opType, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs,
                        const std::map<std::string, OnnxAttribute>& attributes) {
    QByteArray n;
    for (const std::string& i : inputs) stringField(n, node::kInput, i);
    for (const std::string& o : outputs) stringField(n, node::kOutput, o);
    stringField(n, node::kName, outputs.empty() ? fresh(opType) : outputs.front());
    stringField(n, node::kOpType, opType);
    for (const auto& [name, value] : attributes) {
        QByteArray a;
        stringField(a, attribute::kName, name);
        if (const auto* i = std::get_if<std::int64_t>(&value)) {
            intField(a, attribute::kI, *i);
            intField(a, attribute::kType, attribute::kInt);
        } else if (const auto* f = std::get_if<float>(&value)) {
            floatField(a, attribute::kF, *f);
            intField(a, attribute::kType, attribute::kFloat);
        } else if (const auto* list = std::get_if<std::vector<std::int64_t>>(&value)) {
            for (std::int64_t v : *list) intField(a, attribute::kInts, v);
            intField(a, attribute::kType, attribute::kIntsType);
        } else {
            stringField(a, attribute::kS, std::get<std::string>(value));
            intField(a, attribute::kType, attribute::kString);
        }
        bytesField(n, node::kAttribute, a);
    }
    bytesField(graph_, graph::kNode, n);
}

std::string OnnxGraph::fresh(const std::string& prefix) { return prefix + "/" + std::to_string(++counter_); }

QByteArray onnxModel(const OnnxGraph& g, const std::map<std::string, std::string>& metadata) {
    QByteArray graphProto;
    stringField(graphProto, graph::kName, g.name());
    graphProto.append(g.bytes());
    QByteArray opset;
    stringField(opset, 1, "");  // the default domain
    intField(opset, 2, kOpset);
    QByteArray m;
    intField(m, model::kIrVersion, kOnnxIrVersion);
    stringField(m, model::kProducerName, "Raven");
    stringField(m, model::kProducerVersion, QCoreApplication::applicationVersion().toStdString());
    bytesField(m, model::kGraph, graphProto);
    bytesField(m, model::kOpsetImport, opset);
    for (const auto& [k, v] : metadata) {
        QByteArray entry;
        stringField(entry, 1, k);
        stringField(entry, 2, v);
        bytesField(m, model::kMetadataProps, entry);
    }
    return m;
}

}  // namespace raven::console
