#pragma once
// The layer op cases (autograd/LayerOps.h) in the format of OpCases.h: each runs through the
// finite-difference check (test_layer_ops) and against PyTorch (test_autograd_torch, which evaluates
// `torch` with torch_reference.py; `attention(q, k, v, causal, scale)` there is a float64 reference of
// scaled dot-product attention, since PyTorch 1.13 has no F.scaled_dot_product_attention).
// Shapes are awkward on purpose: batch 1, odd and non-square sizes, strides that do not divide,
// groups, padding, non-contiguous inputs. Dropout has no PyTorch peer bit for bit (its masks come
// from Raven's counter-based generator) and is tested in TestLayerOps.cpp.
#include "autograd/LayerOps.h"
#include "autograd/OpCases.h"

namespace raven::test {

inline std::vector<OpCase> layerOpCases() {
    using V = std::vector<Variable>;
    using K = InputKind;
    const Tensor tokens = fromVector({3, 2}, {1, 3, 0, 3, 4, 1});
    const Tensor runningMean = fromVector({3}, {0.1f, -0.2f, 0.3f});
    const Tensor runningVar = fromVector({3}, {0.5f, 1.5f, 2.0f});
    const Tensor targets = fromVector({2}, {1, 0});
    return {
        {"conv2d",
         "F.conv2d(x[0], x[1], x[2])",
         {{2, 3, 5, 4}, {4, 3, 3, 2}, {4}},
         {},
         [](const V& v) { return conv2d(v[0], v[1], v[2]); }},
        {"conv2d_stride_pad_dilation",
         "F.conv2d(x[0], x[1], x[2], stride=(2, 1), padding=(1, 2), dilation=(1, 2))",
         {{1, 2, 6, 5}, {3, 2, 3, 2}, {3}},
         {},
         [](const V& v) {
             return conv2d(v[0], v[1], v[2], {.stride = {2, 1}, .padding = {1, 2}, .dilation = {1, 2}});
         }},
        {"conv2d_groups_nobias",
         "F.conv2d(x[0], x[1], stride=2, groups=2)",
         {{2, 4, 5, 5}, {6, 2, 2, 3}},
         {},
         [](const V& v) { return conv2d(v[0], v[1], Variable(), {.stride = 2, .groups = 2}); }},
        {"conv2d_pointwise",
         "F.conv2d(x[0], x[1], x[2])",
         {{3, 4, 2, 3}, {5, 4, 1, 1}, {5}},
         {},
         [](const V& v) { return conv2d(v[0], v[1], v[2]); }},
        {"conv2d_permuted_input",
         "F.conv2d(x[0].permute(0, 3, 1, 2), x[1], padding=1)",
         {{2, 4, 3, 2}, {3, 2, 3, 3}},
         {},
         [](const V& v) {
             return conv2d(permute(v[0], {0, 3, 1, 2}), v[1], Variable(), {.padding = 1});
         }},
        {"max_pool2d",
         "F.max_pool2d(x[0], 2)",
         {{2, 3, 5, 4}},
         {K::Distinct},
         [](const V& v) { return maxPool2d(v[0], 2); }},
        {"max_pool2d_overlap_pad",
         "F.max_pool2d(x[0], (3, 2), stride=(2, 1), padding=(1, 1))",
         {{1, 2, 5, 3}},
         {K::Distinct},
         [](const V& v) {
             return maxPool2d(v[0], {3, 2}, {2, 1}, {1, 1});
         }},
        {"avg_pool2d", "F.avg_pool2d(x[0], 2)", {{2, 2, 4, 5}}, {}, [](const V& v) { return avgPool2d(v[0], 2); }},
        {"avg_pool2d_pad",
         "F.avg_pool2d(x[0], 3, stride=2, padding=1)",
         {{1, 3, 5, 6}},
         {},
         [](const V& v) { return avgPool2d(v[0], 3, 2, 1); }},
        {"avg_pool2d_pad_exclude",
         "F.avg_pool2d(x[0], (3, 2), stride=(1, 2), padding=(1, 1), count_include_pad=False)",
         {{2, 1, 4, 5}},
         {},
         [](const V& v) {
             return avgPool2d(v[0], {3, 2}, {1, 2}, {1, 1}, false);
         }},
        {"layer_norm",
         "F.layer_norm(x[0], (5,), x[1], x[2])",
         {{3, 5}, {5}, {5}},
         {},
         [](const V& v) { return layerNorm(v[0], {5}, v[1], v[2]); }},
        {"layer_norm_2d_shape",
         "F.layer_norm(x[0], (3, 4), x[1], x[2], eps=1e-3)",
         {{2, 1, 3, 4}, {3, 4}, {3, 4}},
         {},
         [](const V& v) {
             return layerNorm(v[0], {3, 4}, v[1], v[2], 1e-3f);
         }},
        {"layer_norm_plain", "F.layer_norm(x[0], (7,))", {{1, 7}}, {}, [](const V& v) { return layerNorm(v[0], {7}); }},
        {"batch_norm_train_4d",
         "F.batch_norm(x[0], None, None, x[1], x[2], training=True)",
         {{3, 2, 2, 3}, {2}, {2}},
         {},
         [](const V& v) { return batchNorm(v[0], v[1], v[2], Tensor(), Tensor(), true); }},
        {"batch_norm_train_2d",
         "F.batch_norm(x[0], None, None, x[1], x[2], training=True, eps=1e-3)",
         {{4, 3}, {3}, {3}},
         {},
         [](const V& v) { return batchNorm(v[0], v[1], v[2], Tensor(), Tensor(), true, 0.1f, 1e-3f); }},
        {"batch_norm_train_noaffine",
         "F.batch_norm(x[0], None, None, training=True)",
         {{2, 3, 1, 2}},
         {},
         [](const V& v) { return batchNorm(v[0], Variable(), Variable(), Tensor(), Tensor(), true); }},
        {"batch_norm_eval",
         "F.batch_norm(x[0], torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64),"
         " torch.tensor([0.5, 1.5, 2.0], dtype=torch.float64), x[1], x[2], training=False)",
         {{2, 3, 2, 2}, {3}, {3}},
         {},
         [runningMean, runningVar](const V& v) { return batchNorm(v[0], v[1], v[2], runningMean, runningVar, false); }},
        {"embedding",
         "F.embedding(torch.tensor([[1, 3], [0, 3], [4, 1]]), x[0])",
         {{5, 3}},
         {},
         [tokens](const V& v) { return embedding(tokens, v[0]); }},
        // The padding row's zero gradient is a convention (padding_idx), not the derivative: PyTorch only.
        {"embedding_padding",
         "F.embedding(torch.tensor([[1, 3], [0, 3], [4, 1]]), x[0], padding_idx=3)",
         {{5, 2}},
         {},
         [tokens](const V& v) { return embedding(tokens, v[0], 3); },
         false},
        {"attention",
         "attention(x[0], x[1], x[2])",
         {{2, 2, 3, 4}, {2, 2, 5, 4}, {2, 2, 5, 3}},
         {},
         [](const V& v) { return scaledDotProductAttention(v[0], v[1], v[2]); }},
        {"attention_causal_scaled",
         "attention(x[0], x[1], x[2], causal=True, scale=0.7)",
         {{1, 3, 4, 2}, {1, 3, 4, 2}, {1, 3, 4, 5}},
         {},
         [](const V& v) { return scaledDotProductAttention(v[0], v[1], v[2], true, 0.7f); }},
        {"attention_3d_causal_rect",
         "attention(x[0], x[1], x[2], causal=True)",
         {{2, 3, 2}, {2, 5, 2}, {2, 5, 1}},
         {},
         [](const V& v) { return scaledDotProductAttention(v[0], v[1], v[2], true); }},
        {"attention_2d_transposed",
         "attention(x[0].t(), x[1], x[2])",
         {{3, 4}, {2, 3}, {2, 2}},
         {},
         [](const V& v) { return scaledDotProductAttention(transpose(v[0], 0, 1), v[1], v[2]); }},
        // No conv bias before batch norm: its gradient is exactly zero, so only rounding noise would be compared.
        {"cnn_step",
         "F.cross_entropy(F.linear(torch.flatten(F.max_pool2d(torch.relu(F.batch_norm(F.conv2d(x[0], x[1],"
         " padding=1), None, None, x[2], x[3], training=True)), 2), 1), x[4], x[5]), torch.tensor([1, 0]))",
         {{2, 1, 4, 4}, {2, 1, 3, 3}, {2}, {2}, {3, 8}, {3}},
         {},
         [targets](const V& v) {
             const Variable h =
                 batchNorm(conv2d(v[0], v[1], Variable(), {.padding = 1}), v[2], v[3], Tensor(), Tensor(), true);
             return crossEntropy(linear(flatten(maxPool2d(relu(h), 2), 1), v[4], v[5]), targets);
         }},
        {"transformer_block",
         "attention(*[F.layer_norm(F.embedding(torch.tensor([[1, 3], [0, 3], [4, 1]]), x[0]), (4,), x[1], x[2])"
         ".reshape(3, 2, 2, 2).transpose(1, 2)] * 3, causal=True)",
         {{5, 4}, {4}, {4}},
         {},
         [tokens](const V& v) {
             const Variable h = layerNorm(embedding(tokens, v[0]), {4}, v[1], v[2]);
             const Variable heads = transpose(reshape(h, {3, 2, 2, 2}), 1, 2);
             return scaledDotProductAttention(heads, heads, heads, true);
         }},
    };
}

}  // namespace raven::test
