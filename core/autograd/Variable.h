#pragma once
// Variable: a Tensor that takes part in the dynamic (define-by-run) autograd graph.
//
// Model (Flashlight's, with PyTorch's vocabulary):
//  - A Variable has value semantics with shallow copies: copying shares the value, the gradient and
//    the graph position. `setTensor` replaces the value for every copy (how optimizers step).
//  - A leaf is a Variable made by the user (`Variable(tensor, /*requiresGrad=*/true)`), e.g. a weight.
//    Every op on Variables (autograd/Ops.h) computes its value through the backend and, when grad mode
//    is on and some input requires gradients, records a GradNode: its inputs' gradient slots and a
//    backward function. The graph is rebuilt on every forward pass, so shapes may change from batch
//    to batch.
//  - `backward()` on a one-element Variable runs the nodes in reverse topological order (iteratively,
//    no recursion), sums gradients that meet (diamonds), and adds the result into the leaves' `grad()`
//    (accumulating across calls until `zeroGrad()`). Each node is then released: its backward
//    function and the tensors it saved are freed, and a second backward through it is an error.
//    Intermediate gradients are freed as soon as they have been passed on.
//  - Graph edges point at gradient slots (AutogradMeta), never at values: a node keeps alive only the
//    tensors its backward function captured, and ops capture only what their gradient needs.
//  - `NoGradGuard` (RAII, per thread) turns recording off, e.g. for evaluation and optimizer steps.
//  - Nothing here reads tensor values on the host.
//
//   Variable w(randn({10, 784}, gen), true), b(zeros({10}), true);
//   Variable loss = crossEntropy(linear(Variable(x), w, b), y);
//   loss.backward();            // w.grad(), b.grad() now hold dloss/dw, dloss/db
//   w.zeroGrad(); b.zeroGrad();
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/Tensor.h"

namespace raven {

struct GradNode;

// The gradient side of a Variable, shared by its copies; graph edges point here.
struct AutogradMeta {
    Tensor grad;  // accumulated gradient; undefined until one arrives
    bool requiresGrad = false;
    std::shared_ptr<GradNode> node;  // the op that produced the value; null for a leaf
};

// Given dL/d(output) and which inputs need a gradient, returns dL/d(input) for each input (an
// undefined Tensor where none is needed). Each returned gradient has its input's shape.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& gradOutput, const std::vector<bool>& needsGrad)>;

// One recorded op application.
struct GradNode {
    std::string op;                                     // for error messages ("matmul")
    std::vector<std::shared_ptr<AutogradMeta>> inputs;  // null where the input needs no gradient
    std::vector<Shape> inputShapes;
    BackwardFn backward;
    bool released = false;  // set after backward ran; the node then holds nothing
};

class Variable {
public:
    // An undefined Variable (no value).
    Variable() = default;
    explicit Variable(Tensor value, bool requiresGrad = false);

    bool defined() const { return data_ != nullptr; }
    const Tensor& tensor() const;
    // Replaces the value seen by every copy (shape may change only for a leaf).
    void setTensor(Tensor value);
    const Shape& shape() const { return tensor().shape(); }
    int64_t dim() const { return tensor().dim(); }
    int64_t size(int64_t axis) const { return tensor().size(axis); }
    int64_t numel() const { return tensor().numel(); }

    bool requiresGrad() const { return meta_ && meta_->requiresGrad; }
    // For leaves only: whether backward should compute this Variable's gradient.
    void setRequiresGrad(bool requiresGrad);
    bool isLeaf() const { return !meta_ || !meta_->node; }

    bool hasGrad() const { return meta_ && meta_->grad.defined(); }
    // The accumulated gradient; undefined (check hasGrad) before any backward reached it.
    const Tensor& grad() const;
    // Forgets the accumulated gradient (the next backward starts from nothing).
    void zeroGrad();

    // Backpropagates from this one-element Variable (seed 1).
    void backward() const;
    // Backpropagates with an explicit dL/d(this), of this Variable's shape.
    void backward(const Tensor& gradOutput) const;

    // The same value, cut from the graph (a leaf that does not require gradients).
    Variable detach() const;

    // The node that produced this Variable (null for leaves); for tests and tools.
    const std::shared_ptr<GradNode>& node() const;
    const std::shared_ptr<AutogradMeta>& meta() const { return meta_; }

    std::vector<float> toVector() const { return tensor().toVector(); }
    float item() const { return tensor().item(); }

private:
    struct Data {
        Tensor value;
    };
    std::shared_ptr<Data> data_;
    std::shared_ptr<AutogradMeta> meta_;
};

// Wraps an op's result: records a GradNode when grad mode is on and some input requires gradients,
// otherwise returns a plain Variable. This is how every op (and the lead's layer ops) joins the graph:
//
//   Tensor y = backend.someKernel(x.tensor());
//   return makeResult(y, {x}, "someOp", [x = x.tensor()](const Tensor& g, const std::vector<bool>&) {
//       return std::vector<Tensor>{someBackwardKernel(x, g)};
//   });
Variable makeResult(Tensor value, const std::vector<Variable>& inputs, const char* op, BackwardFn backward);

// Whether ops record the graph on this thread (true unless a NoGradGuard is alive).
bool isGradEnabled();

class NoGradGuard {
public:
    NoGradGuard();
    ~NoGradGuard();
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

}  // namespace raven
