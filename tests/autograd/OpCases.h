#pragma once
// The table of differentiable op cases that both the finite-difference test and the PyTorch
// comparison run: each case names the op, gives a Raven function of its inputs, the same function as
// a PyTorch expression over x[0], x[1], ... (float64 tensors), the input shapes (awkward on purpose:
// size 1, non-multiples, broadcast size-1 dimensions, batches) and how to draw each input.
#include <functional>
#include <string>
#include <vector>

#include "autograd/Ops.h"
#include "tensor/Random.h"

namespace raven::test {

enum class InputKind {
    Any,       // uniform in [-2, 2)
    Positive,  // uniform in [0.5, 2)
    NonZero,   // |x| uniform in [0.3, 2), random sign: away from the kinks of relu and the pole of 1/x
    Distinct,  // a shuffled ladder of values 0.15 apart: no ties for max
};

struct OpCase {
    std::string name;
    std::string torch;  // Python expression over x (list of tensors), torch and F
    std::vector<Shape> shapes;
    std::vector<InputKind> kinds;  // one per input; missing = Any
    std::function<Variable(const std::vector<Variable>&)> f;
    // False where the gradient is a convention rather than the derivative (embedding's padding_idx):
    // compared with PyTorch only, not with finite differences.
    bool finiteDifferences = true;
};

inline Tensor drawInput(const Shape& shape, InputKind kind, Generator& gen) {
    std::vector<float> v(static_cast<size_t>(numelOf(shape)));
    for (size_t i = 0; i < v.size(); ++i) {
        switch (kind) {
            case InputKind::Any:
                v[i] = -2.0f + 4.0f * gen.nextFloat();
                break;
            case InputKind::Positive:
                v[i] = 0.5f + 1.5f * gen.nextFloat();
                break;
            case InputKind::NonZero: {
                const float m = 0.3f + 1.7f * gen.nextFloat();
                v[i] = gen.nextU64() & 1 ? m : -m;
                break;
            }
            case InputKind::Distinct:
                v[i] = 0.15f * (static_cast<float>(i) - static_cast<float>(v.size()) / 2.0f);
                break;
        }
    }
    if (kind == InputKind::Distinct) {
        for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[gen.nextBelow(i)]);
    }
    return fromVector(shape, v);
}

inline std::vector<OpCase> opCases() {
    using V = std::vector<Variable>;
    using K = InputKind;
    const Tensor targets4 = fromVector({4}, {0, 2, 1, 2});
    const Tensor targets1 = fromVector({1}, {4});
    return {
        {"matmul_2d", "torch.matmul(x[0], x[1])", {{3, 5}, {5, 4}}, {}, [](const V& v) { return matmul(v[0], v[1]); }},
        {"matmul_vecs",
         "torch.matmul(x[0], x[1])",
         {{1, 7}, {7, 1}},
         {},
         [](const V& v) { return matmul(v[0], v[1]); }},
        {"matmul_batched",
         "torch.matmul(x[0], x[1])",
         {{2, 3, 4}, {4, 5}},
         {},
         [](const V& v) { return matmul(v[0], v[1]); }},
        {"matmul_broadcast",
         "torch.matmul(x[0], x[1])",
         {{2, 1, 3, 4}, {3, 4, 2}},
         {},
         [](const V& v) { return matmul(v[0], v[1]); }},
        {"matmul_transposed",
         "torch.matmul(x[0].transpose(0, 1), x[1])",
         {{5, 3}, {5, 2}},
         {},
         [](const V& v) { return matmul(transpose(v[0], 0, 1), v[1]); }},
        {"linear",
         "F.linear(x[0], x[1], x[2])",
         {{5, 7}, {3, 7}, {3}},
         {},
         [](const V& v) { return linear(v[0], v[1], v[2]); }},
        {"linear_3d",
         "F.linear(x[0], x[1], x[2])",
         {{2, 3, 7}, {4, 7}, {4}},
         {},
         [](const V& v) { return linear(v[0], v[1], v[2]); }},
        {"linear_nobias", "F.linear(x[0], x[1])", {{1, 6}, {5, 6}}, {}, [](const V& v) { return linear(v[0], v[1]); }},
        {"add_broadcast", "x[0] + x[1]", {{3, 4}, {4}}, {}, [](const V& v) { return v[0] + v[1]; }},
        {"add_both_broadcast", "x[0] + x[1]", {{2, 1, 3}, {4, 1}}, {}, [](const V& v) { return v[0] + v[1]; }},
        {"sub_broadcast", "x[0] - x[1]", {{3, 1}, {1, 5}}, {}, [](const V& v) { return v[0] - v[1]; }},
        {"mul", "x[0] * x[1]", {{2, 3}, {2, 3}}, {}, [](const V& v) { return v[0] * v[1]; }},
        {"mul_broadcast", "x[0] * x[1]", {{4, 1}, {3}}, {}, [](const V& v) { return v[0] * v[1]; }},
        {"mul_self", "x[0] * x[0]", {{5}}, {}, [](const V& v) { return v[0] * v[0]; }},
        {"div_broadcast", "x[0] / x[1]", {{3, 4}, {4}}, {K::Any, K::NonZero}, [](const V& v) { return v[0] / v[1]; }},
        {"scalar_ops",
         "(x[0] * 2.5 + 1.0) / 3.0 - 0.5",
         {{2, 3}},
         {},
         [](const V& v) { return (v[0] * 2.5f + 1.0f) / 3.0f - 0.5f; }},
        {"rsub", "1.0 - x[0]", {{3}}, {}, [](const V& v) { return 1.0f - v[0]; }},
        {"neg", "-x[0]", {{3, 2}}, {}, [](const V& v) { return -v[0]; }},
        {"exp", "torch.exp(x[0])", {{2, 3}}, {}, [](const V& v) { return exp(v[0]); }},
        {"log", "torch.log(x[0])", {{7}}, {K::Positive}, [](const V& v) { return log(v[0]); }},
        {"sqrt", "torch.sqrt(x[0])", {{2, 2}}, {K::Positive}, [](const V& v) { return sqrt(v[0]); }},
        {"pow3", "torch.pow(x[0], 3.0)", {{5}}, {}, [](const V& v) { return pow(v[0], 3.0f); }},
        {"pow_frac", "torch.pow(x[0], -1.5)", {{4}}, {K::Positive}, [](const V& v) { return pow(v[0], -1.5f); }},
        {"sum_all", "torch.sum(x[0])", {{3, 4}}, {}, [](const V& v) { return sum(v[0]); }},
        {"sum_axis0_keep",
         "torch.sum(x[0], dim=0, keepdim=True)",
         {{5, 3}},
         {},
         [](const V& v) { return sum(v[0], {0}, true); }},
        {"sum_axes12",
         "torch.sum(x[0], dim=(1, 2))",
         {{2, 3, 4}},
         {},
         [](const V& v) {
             return sum(v[0], {1, 2});
         }},
        {"sum_last", "torch.sum(x[0], dim=-1)", {{3, 1, 5}}, {}, [](const V& v) { return sum(v[0], {-1}); }},
        {"mean_axes02",
         "torch.mean(x[0], dim=(0, 2))",
         {{2, 3, 4}},
         {},
         [](const V& v) {
             return mean(v[0], {0, 2});
         }},
        {"mean_all", "torch.mean(x[0])", {{7}}, {}, [](const V& v) { return mean(v[0]); }},
        {"max_all", "torch.amax(x[0], dim=(0, 1))", {{3, 4}}, {K::Distinct}, [](const V& v) { return max(v[0]); }},
        {"max_axis1_keep",
         "torch.amax(x[0], dim=1, keepdim=True)",
         {{3, 5, 2}},
         {K::Distinct},
         [](const V& v) { return max(v[0], {1}, true); }},
        {"relu", "torch.relu(x[0])", {{3, 5}}, {K::NonZero}, [](const V& v) { return relu(v[0]); }},
        {"gelu_erf", "F.gelu(x[0])", {{2, 5}}, {}, [](const V& v) { return gelu(v[0]); }},
        {"gelu_tanh",
         "F.gelu(x[0], approximate='tanh')",
         {{2, 5}},
         {},
         [](const V& v) { return gelu(v[0], GeluApproximation::Tanh); }},
        {"tanh", "torch.tanh(x[0])", {{4, 3}}, {}, [](const V& v) { return tanh(v[0]); }},
        {"sigmoid", "torch.sigmoid(x[0])", {{4, 3}}, {}, [](const V& v) { return sigmoid(v[0]); }},
        {"softmax_last", "torch.softmax(x[0], dim=-1)", {{3, 5}}, {}, [](const V& v) { return softmax(v[0], -1); }},
        {"softmax_axis0", "torch.softmax(x[0], dim=0)", {{4, 3}}, {}, [](const V& v) { return softmax(v[0], 0); }},
        {"log_softmax_mid",
         "torch.log_softmax(x[0], dim=1)",
         {{2, 3, 4}},
         {},
         [](const V& v) { return logSoftmax(v[0], 1); }},
        {"cross_entropy",
         "F.cross_entropy(x[0], torch.tensor([0, 2, 1, 2]))",
         {{4, 3}},
         {},
         [targets4](const V& v) { return crossEntropy(v[0], targets4); }},
        {"cross_entropy_smooth",
         "F.cross_entropy(x[0], torch.tensor([0, 2, 1, 2]), label_smoothing=0.1)",
         {{4, 3}},
         {},
         [targets4](const V& v) { return crossEntropy(v[0], targets4, 0.1f); }},
        {"cross_entropy_one",
         "F.cross_entropy(x[0], torch.tensor([4]))",
         {{1, 5}},
         {},
         [targets1](const V& v) { return crossEntropy(v[0], targets1); }},
        {"mse", "F.mse_loss(x[0], x[1])", {{3, 4}, {3, 4}}, {}, [](const V& v) { return mse(v[0], v[1]); }},
        {"reshape",
         "x[0].reshape(3, 4)",
         {{2, 6}},
         {},
         [](const V& v) {
             return reshape(v[0], {3, 4});
         }},
        {"flatten", "torch.flatten(x[0], 1)", {{2, 3, 4}}, {}, [](const V& v) { return flatten(v[0], 1); }},
        {"transpose", "x[0].transpose(0, 2)", {{2, 3, 4}}, {}, [](const V& v) { return transpose(v[0], 0, 2); }},
        {"permute",
         "x[0].permute(2, 0, 1)",
         {{2, 3, 4}},
         {},
         [](const V& v) {
             return permute(v[0], {2, 0, 1});
         }},
        {"concat",
         "torch.cat([x[0], x[1], x[2]], dim=1)",
         {{2, 3}, {2, 1}, {2, 2}},
         {},
         [](const V& v) {
             return concat({v[0], v[1], v[2]}, 1);
         }},
        {"narrow", "x[0].narrow(1, 1, 3)", {{4, 5}}, {}, [](const V& v) { return narrow(v[0], 1, 1, 3); }},
        {"expand",
         "x[0].expand(2, 3, 4)",
         {{3, 1}},
         {},
         [](const V& v) {
             return expand(v[0], {2, 3, 4});
         }},
        {"unsqueeze_squeeze",
         "x[0].unsqueeze(1) * 2.0",
         {{3, 2}},
         {},
         [](const V& v) { return squeeze(unsqueeze(unsqueeze(v[0], 1), 0), 0) * 2.0f; }},
        {"mlp_step",
         "F.cross_entropy(F.linear(torch.tanh(F.linear(x[0], x[1], x[2])), x[3], x[4]), torch.tensor([0, 2, 1, 2]))",
         {{4, 6}, {5, 6}, {5}, {3, 5}, {3}},
         {},
         [targets4](const V& v) { return crossEntropy(linear(tanh(linear(v[0], v[1], v[2])), v[3], v[4]), targets4); }},
    };
}

}  // namespace raven::test
