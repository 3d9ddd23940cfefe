#include "autograd/Variable.h"

#include <unordered_set>
#include <utility>

#include "base/Error.h"
#include "tensor/TensorOps.h"

namespace raven {

namespace {
thread_local bool tlsGradEnabled = true;

const Tensor& undefinedTensor() {
    static const Tensor none;
    return none;
}

// Adds g into a gradient slot. Never in place: a gradient tensor may be shared with another slot.
void accumulate(AutogradMeta& meta, Tensor g) {
    if (!meta.grad.defined()) {
        // Broadcast (stride-0) views are made dense once they land in a slot.
        meta.grad = meta.node ? std::move(g) : g.contiguous();
    } else {
        meta.grad = add(meta.grad, g);
    }
}

void release(GradNode& node) {
    node.inputs.clear();
    node.inputs.shrink_to_fit();
    node.backward = nullptr;
    node.released = true;
}

void runBackward(const std::shared_ptr<AutogradMeta>& root, const Tensor& seed) {
    RAVEN_CHECK(root && root->requiresGrad, "backward: this value does not require gradients",
                "make a leaf with Variable(tensor, true) and compute the value from it with grad mode on");
    if (root->node && root->node->released) {
        fail("backward: the graph of this " + root->node->op + " result was already used by a backward pass and freed",
             "run the forward pass again before calling backward a second time");
    }

    // Post-order depth-first walk (iterative): reversed, it is a topological order from the root.
    // `order` owns the slots: releasing a node drops the graph's references to its inputs' slots,
    // which must outlive their turn.
    std::vector<std::shared_ptr<AutogradMeta>> order;
    std::unordered_set<AutogradMeta*> visited{root.get()};
    std::vector<std::pair<std::shared_ptr<AutogradMeta>, size_t>> stack{{root, 0}};
    while (!stack.empty()) {
        std::shared_ptr<AutogradMeta> meta = stack.back().first;
        const size_t next = stack.back().second;
        if (meta->node && next < meta->node->inputs.size()) {
            ++stack.back().second;
            const std::shared_ptr<AutogradMeta>& input = meta->node->inputs[next];
            if (input && visited.insert(input.get()).second) stack.emplace_back(input, 0);
        } else {
            order.push_back(std::move(meta));
            stack.pop_back();
        }
    }

    accumulate(*root, seed);
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        AutogradMeta& meta = **it;
        if (!meta.node) continue;  // a leaf: its gradient stays
        GradNode& node = *meta.node;
        RAVEN_CHECK(!node.released,
                    "backward: part of this graph (a " + node.op + " result) was already freed by an earlier backward",
                    "run the forward pass again before calling backward a second time");
        Tensor g = std::move(meta.grad);
        meta.grad = Tensor();
        if (g.defined()) {
            std::vector<bool> needs(node.inputs.size());
            for (size_t i = 0; i < needs.size(); ++i) needs[i] = node.inputs[i] != nullptr;
            std::vector<Tensor> grads = node.backward(g, needs);
            RAVEN_ASSERT(grads.size() == node.inputs.size(), "backward of " + node.op + " returned a wrong count");
            for (size_t i = 0; i < grads.size(); ++i) {
                if (!needs[i] || !grads[i].defined()) continue;
                RAVEN_ASSERT(grads[i].shape() == node.inputShapes[i],
                             "backward of " + node.op + " gave input " + std::to_string(i) + " a gradient of shape " +
                                 shapeToString(grads[i].shape()) + " instead of " + shapeToString(node.inputShapes[i]));
                accumulate(*node.inputs[i], std::move(grads[i]));
            }
        }
        release(node);
    }
}
}  // namespace

Variable::Variable(Tensor value, bool requiresGrad)
    : data_(std::make_shared<Data>(Data{std::move(value)})), meta_(std::make_shared<AutogradMeta>()) {
    meta_->requiresGrad = requiresGrad;
}

const Tensor& Variable::tensor() const {
    RAVEN_CHECK(data_ != nullptr, "Variable: this Variable is undefined", "construct it from a Tensor first");
    return data_->value;
}

void Variable::setTensor(Tensor value) {
    RAVEN_CHECK(data_ != nullptr, "Variable::setTensor: this Variable is undefined", "");
    RAVEN_CHECK(isLeaf() || value.shape() == data_->value.shape(),
                "Variable::setTensor: an op result of shape " + shapeToString(data_->value.shape()) +
                    " cannot take a value of shape " + shapeToString(value.shape()),
                "");
    data_->value = std::move(value);
}

void Variable::setRequiresGrad(bool requiresGrad) {
    RAVEN_CHECK(defined() && isLeaf(), "Variable::setRequiresGrad: only a leaf's flag can be set",
                "detach() the value to get a new leaf");
    meta_->requiresGrad = requiresGrad;
}

const Tensor& Variable::grad() const { return meta_ ? meta_->grad : undefinedTensor(); }

void Variable::zeroGrad() {
    if (meta_) meta_->grad = Tensor();
}

void Variable::backward() const {
    RAVEN_CHECK(defined() && numel() == 1,
                "backward: called on a value of shape " +
                    (defined() ? shapeToString(shape()) : std::string("(undefined)")) + ", not a single element",
                "reduce to a scalar loss (sum or mean), or pass dL/dvalue to backward(gradOutput)");
    runBackward(meta_, ones(shape(), tensor().backend()));
}

void Variable::backward(const Tensor& gradOutput) const {
    RAVEN_CHECK(defined() && gradOutput.shape() == shape(),
                "backward: gradient of shape " + shapeToString(gradOutput.shape()) + " for a value of shape " +
                    (defined() ? shapeToString(shape()) : std::string("(undefined)")),
                "the gradient must have the value's shape");
    runBackward(meta_, gradOutput);
}

Variable Variable::detach() const { return Variable(tensor(), false); }

const std::shared_ptr<GradNode>& Variable::node() const {
    static const std::shared_ptr<GradNode> none;
    return meta_ ? meta_->node : none;
}

Variable makeResult(Tensor value, const std::vector<Variable>& inputs, const char* op, BackwardFn backward) {
    Variable result(std::move(value), false);
    if (!tlsGradEnabled) return result;
    bool any = false;
    for (const Variable& in : inputs) any = any || (in.defined() && in.requiresGrad());
    if (!any) return result;
    auto node = std::make_shared<GradNode>();
    node->op = op;
    for (const Variable& in : inputs) {
        const bool needs = in.defined() && in.requiresGrad();
        node->inputs.push_back(needs ? in.meta() : nullptr);
        node->inputShapes.push_back(in.defined() ? in.shape() : Shape{});
    }
    node->backward = std::move(backward);
    result.meta()->requiresGrad = true;
    result.meta()->node = std::move(node);
    return result;
}

bool isGradEnabled() { return tlsGradEnabled; }

NoGradGuard::NoGradGuard() : previous_(tlsGradEnabled) { tlsGradEnabled = false; }

NoGradGuard::~NoGradGuard() { tlsGradEnabled = previous_; }

}  // namespace raven
