"""Checks a Raven ONNX export with ONNX's own tools and evaluates it independently (tst_ConsoleModels).

    python3 onnx_reference.py model.onnx inputs.bin batch outputs.bin

1. onnx.load, onnx.checker.check_model(full_check=True) and strict shape inference: the file is
   valid ONNX and its shapes agree with the declared output.
2. Evaluates the graph on the raw inputs (float32, [batch, ...input shape]) with the NumPy
   implementation of each operator below, written from the ONNX operator specification (Debian's
   python3-onnx 1.12 has no reference evaluator), over the initializers read by onnx.numpy_helper.
3. Writes the outputs as float32 to outputs.bin and prints the metadata and operators used.
"""
import math
import sys

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

erf = np.vectorize(math.erf, otypes=[np.float64])


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def pad2d(x, pads, value):
    top, left, bottom, right = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def windows(x, kh, kw, sh, sw, dh=1, dw=1):
    """[N, C, H, W] -> [N, C, outH, outW, kh, kw] patches."""
    n, c, h, w = x.shape
    oh = (h - (dh * (kh - 1) + 1)) // sh + 1
    ow = (w - (dw * (kw - 1) + 1)) // sw + 1
    out = np.empty((n, c, oh, ow, kh, kw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out[..., i, j] = x[:, :, i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw]
    return out


def conv(x, w, b, a):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    groups = a.get("group", 1)
    x = pad2d(x, [a["pads"][0], a["pads"][1], a["pads"][2], a["pads"][3]], 0.0)
    patches = windows(x, kh, kw, sh, sw, dh, dw)  # [N, C, oh, ow, kh, kw]
    n, c, oh, ow = patches.shape[:4]
    out_c = w.shape[0]
    cg, og = c // groups, out_c // groups
    y = np.zeros((n, out_c, oh, ow), dtype=np.float64)
    for g in range(groups):
        p = patches[:, g * cg : (g + 1) * cg]
        y[:, g * og : (g + 1) * og] = np.einsum("ncxykl,ockl->noxy", p, w[g * og : (g + 1) * og])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def pool(x, a, kind):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    pads = a.get("pads", [0, 0, 0, 0])
    if kind == "max":
        return windows(pad2d(x, pads, -np.inf), kh, kw, sh, sw).max(axis=(4, 5))
    summed = windows(pad2d(x, pads, 0.0), kh, kw, sh, sw).sum(axis=(4, 5))
    if a.get("count_include_pad", 0):
        return summed / (kh * kw)
    counts = windows(pad2d(np.ones_like(x), pads, 0.0), kh, kw, sh, sw).sum(axis=(4, 5))
    return summed / counts


def softmax(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def reshape(x, shape):
    shape = [x.shape[i] if s == 0 else int(s) for i, s in enumerate(shape)]
    return x.reshape(shape)


def run(model, feeds):
    values = dict(feeds)
    for init in model.graph.initializer:
        values[init.name] = numpy_helper.to_array(init).astype(np.float64) if init.data_type == 1 else numpy_helper.to_array(init)
    used = set()
    for node in model.graph.node:
        a = attrs(node)
        i = [values[name] if name else None for name in node.input]
        op = node.op_type
        used.add(op)
        if op == "Sub":
            y = i[0] - i[1]
        elif op == "Div":
            y = i[0] / i[1]
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "Mul":
            y = i[0] * i[1]
        elif op == "Pow":
            y = np.power(i[0], i[1])
        elif op == "MatMul":
            y = np.matmul(i[0], i[1])
        elif op == "Transpose":
            y = np.transpose(i[0], a["perm"])
        elif op == "Reshape":
            y = reshape(i[0], i[1])
        elif op == "Identity":
            y = i[0]
        elif op == "Relu":
            y = np.maximum(i[0], 0.0)
        elif op == "Tanh":
            y = np.tanh(i[0])
        elif op == "Sigmoid":
            y = 1.0 / (1.0 + np.exp(-i[0]))
        elif op == "Erf":
            y = erf(i[0])
        elif op == "Softmax":
            y = softmax(i[0], a.get("axis", -1))
        elif op == "Conv":
            y = conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
        elif op == "MaxPool":
            y = pool(i[0], a, "max")
        elif op == "AveragePool":
            y = pool(i[0], a, "avg")
        elif op == "LayerNormalization":
            x = i[0]
            mean = x.mean(axis=-1, keepdims=True)
            var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
            y = (x - mean) / np.sqrt(var + a.get("epsilon", 1e-5)) * i[1] + i[2]
        elif op == "BatchNormalization":
            x, scale, bias, mean, var = i
            shape = [1, -1] + [1] * (x.ndim - 2)
            y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + a.get("epsilon", 1e-5)) * scale.reshape(shape) + bias.reshape(shape)
        elif op == "Cast":
            assert a["to"] == 7, "only casts to int64 are expected"
            y = i[0].astype(np.int64)
        elif op == "Gather":
            y = np.take(i[0], i[1], axis=a.get("axis", 0))
        elif op == "Slice":
            starts, ends, axes = i[1], i[2], i[3]
            index = [slice(None)] * i[0].ndim
            for s, e, ax in zip(starts, ends, axes):
                index[int(ax)] = slice(int(s), int(e))
            y = i[0][tuple(index)]
        elif op == "Split":
            sizes = np.cumsum(i[1])[:-1]
            parts = np.split(i[0], sizes, axis=a.get("axis", 0))
            for name, part in zip(node.output, parts):
                values[name] = part
            continue
        else:
            raise SystemExit("no NumPy implementation of " + op)
        values[node.output[0]] = y
    return values[model.graph.output[0].name], sorted(used)


def main():
    path, inputs_path, batch, outputs_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    declared = [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim[1:]]
    info = {v.name: v for v in inferred.graph.value_info}
    print("opset", model.opset_import[0].version, "ir", model.ir_version, "nodes", len(model.graph.node))
    print("metadata", {p.key: p.value[:60] for p in model.metadata_props})
    sample = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
    x = np.fromfile(inputs_path, dtype=np.float32).reshape([batch] + sample).astype(np.float64)
    y, used = run(model, {model.graph.input[0].name: x})
    assert list(y.shape[1:]) == declared, (y.shape, declared)
    print("operators", " ".join(used))
    print("inferred values", len(info))
    y.astype(np.float32).tofile(outputs_path)


if __name__ == "__main__":
    main()
