#include "tensor/Tensor.h"

#include <algorithm>

#include "base/Checked.h"
#include "base/Error.h"
#include "tensor/Backend.h"
#include "tensor/Random.h"

namespace raven {

namespace {
std::string axisText(int64_t axis) { return std::to_string(axis); }

// Resolves a single -1 in `shape` against `numel`; throws naming both shapes if impossible.
Shape inferShape(Shape shape, int64_t numel, const Shape& from, const char* op) {
    int64_t known = 1;
    int inferred = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1) {
            RAVEN_CHECK(inferred < 0, std::string(op) + ": " + shapeToString(shape) + " has more than one -1",
                        "at most one size may be inferred");
            inferred = static_cast<int>(i);
        } else {
            RAVEN_CHECK(shape[i] >= 0, std::string(op) + ": negative size in " + shapeToString(shape), "");
            known = checkedMul(known, shape[i], std::string(op) + ": the sizes of " + shapeToString(shape),
                               "the new shape must have the same number of elements");
        }
    }
    if (inferred >= 0 && known != 0 && numel % known == 0) shape[static_cast<size_t>(inferred)] = numel / known;
    if (numelOf(shape) != numel || (inferred >= 0 && known == 0)) {
        fail(std::string(op) + ": cannot reshape " + shapeToString(from) + " (" + std::to_string(numel) +
                 " elements) into " + shapeToString(shape),
             "the new shape must have the same number of elements");
    }
    return shape;
}
}  // namespace

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset)
    : storage_(std::move(storage)), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset) {
    RAVEN_ASSERT(storage_ != nullptr, "Tensor needs a storage");
    RAVEN_ASSERT(shape_.size() == strides_.size(), "Tensor shape and strides differ in rank");
    if (numel() == 0) return;
    int64_t last = offset_;
    for (size_t i = 0; i < shape_.size(); ++i) {
        RAVEN_ASSERT(shape_[i] >= 0 && strides_[i] >= 0, "Tensor sizes and strides must be non-negative");
        last += (shape_[i] - 1) * strides_[i];
    }
    RAVEN_ASSERT(offset_ >= 0 && last < storage_->numel(), "Tensor view reaches outside its storage");
}

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape)
    : Tensor(std::move(storage), shape, contiguousStrides(shape), 0) {}

int64_t Tensor::size(int64_t axis) const {
    return shape_[static_cast<size_t>(normalizeAxis(axis, dim(), "size", shape_))];
}

Backend& Tensor::backend() const {
    RAVEN_CHECK(defined(), "an undefined Tensor has no backend", "create the tensor before using it");
    return storage_->backend();
}

bool Tensor::isContiguous() const {
    int64_t expected = 1;
    for (size_t i = shape_.size(); i-- > 0;) {
        if (shape_[i] == 1) continue;
        if (strides_[i] != expected) return false;
        expected *= shape_[i];
    }
    return true;
}

Tensor Tensor::view(Shape shape) const {
    shape = inferShape(std::move(shape), numel(), shape_, "view");
    RAVEN_CHECK(
        isContiguous(),
        "view: " + shapeToString(shape_) + " is not contiguous, so it cannot be viewed as " + shapeToString(shape),
        "use reshape (which copies) or call contiguous() first");
    return Tensor(storage_, shape, contiguousStrides(shape), offset_);
}

Tensor Tensor::reshape(Shape shape) const {
    shape = inferShape(std::move(shape), numel(), shape_, "reshape");
    return contiguous().view(std::move(shape));
}

Tensor Tensor::flatten(int64_t startAxis, int64_t endAxis) const {
    if (dim() == 0) return reshape({1});
    const int s = normalizeAxis(startAxis, dim(), "flatten", shape_);
    const int e = normalizeAxis(endAxis, dim(), "flatten", shape_);
    RAVEN_CHECK(s <= e,
                "flatten: start axis " + axisText(startAxis) + " comes after end axis " + axisText(endAxis) + " for " +
                    shapeToString(shape_),
                "");
    Shape out(shape_.begin(), shape_.begin() + s);
    int64_t merged = 1;
    for (int i = s; i <= e; ++i) merged *= shape_[static_cast<size_t>(i)];
    out.push_back(merged);
    out.insert(out.end(), shape_.begin() + e + 1, shape_.end());
    return reshape(out);
}

Tensor Tensor::transpose(int64_t axis0, int64_t axis1) const {
    const auto a = static_cast<size_t>(normalizeAxis(axis0, dim(), "transpose", shape_));
    const auto b = static_cast<size_t>(normalizeAxis(axis1, dim(), "transpose", shape_));
    Shape shape = shape_;
    Strides strides = strides_;
    std::swap(shape[a], shape[b]);
    std::swap(strides[a], strides[b]);
    return Tensor(storage_, shape, strides, offset_);
}

Tensor Tensor::permute(const std::vector<int64_t>& order) const {
    RAVEN_CHECK(static_cast<int64_t>(order.size()) == dim(),
                "permute: " + std::to_string(order.size()) + " axes given for " + shapeToString(shape_),
                "list every axis exactly once");
    Shape shape(order.size());
    Strides strides(order.size());
    std::vector<bool> seen(order.size(), false);
    for (size_t i = 0; i < order.size(); ++i) {
        const auto a = static_cast<size_t>(normalizeAxis(order[i], dim(), "permute", shape_));
        RAVEN_CHECK(!seen[a],
                    "permute: axis " + std::to_string(order[i]) + " listed twice for " + shapeToString(shape_),
                    "list every axis exactly once");
        seen[a] = true;
        shape[i] = shape_[a];
        strides[i] = strides_[a];
    }
    return Tensor(storage_, shape, strides, offset_);
}

Tensor Tensor::narrow(int64_t axis, int64_t start, int64_t length) const {
    const auto a = static_cast<size_t>(normalizeAxis(axis, dim(), "narrow", shape_));
    if (start < 0) start += shape_[a];
    RAVEN_CHECK(start >= 0 && length >= 0 && start + length <= shape_[a],
                "narrow: elements [" + std::to_string(start) + ", " + std::to_string(start + length) + ") of axis " +
                    std::to_string(axis) + " do not fit in " + shapeToString(shape_),
                "start and length must lie within the axis");
    Shape shape = shape_;
    shape[a] = length;
    return Tensor(storage_, shape, strides_, length == 0 ? 0 : offset_ + start * strides_[a]);
}

Tensor Tensor::expand(const Shape& target) const {
    RAVEN_CHECK(target.size() >= shape_.size(),
                "expand: cannot expand " + shapeToString(shape_) + " to fewer dimensions " + shapeToString(target), "");
    const size_t lead = target.size() - shape_.size();
    Shape shape(target.size());
    Strides strides(target.size(), 0);
    for (size_t i = 0; i < target.size(); ++i) {
        if (i < lead) {
            RAVEN_CHECK(target[i] >= 0,
                        "expand: size -1 is not allowed for a new leading dimension in " + shapeToString(target), "");
            shape[i] = target[i];
            continue;
        }
        const int64_t have = shape_[i - lead];
        const int64_t want = target[i] == -1 ? have : target[i];
        if (have == want) {
            shape[i] = have;
            strides[i] = strides_[i - lead];
        } else {
            RAVEN_CHECK(have == 1,
                        "expand: " + shapeToString(shape_) + " cannot be broadcast to " + shapeToString(target) +
                            ": size " + std::to_string(have) + " is not 1",
                        "only dimensions of size 1 can be expanded");
            shape[i] = want;
        }
    }
    return Tensor(storage_, shape, strides, offset_);
}

Tensor Tensor::unsqueeze(int64_t axis) const {
    const auto a = static_cast<size_t>(normalizeAxis(axis, dim() + 1, "unsqueeze", shape_));
    Shape shape = shape_;
    Strides strides = strides_;
    const int64_t stride = a < shape_.size() ? shape_[a] * strides_[a] : 1;
    shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(a), 1);
    strides.insert(strides.begin() + static_cast<std::ptrdiff_t>(a), stride);
    return Tensor(storage_, shape, strides, offset_);
}

Tensor Tensor::squeeze(int64_t axis) const {
    const auto a = static_cast<size_t>(normalizeAxis(axis, dim(), "squeeze", shape_));
    RAVEN_CHECK(shape_[a] == 1, "squeeze: axis " + std::to_string(axis) + " of " + shapeToString(shape_) + " is not 1",
                "only a dimension of size 1 can be removed");
    Shape shape = shape_;
    Strides strides = strides_;
    shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(a));
    strides.erase(strides.begin() + static_cast<std::ptrdiff_t>(a));
    return Tensor(storage_, shape, strides, offset_);
}

Tensor Tensor::contiguous() const {
    if (isContiguous()) return *this;
    return backend().contiguousCopy(*this);
}

Tensor Tensor::clone() const { return backend().contiguousCopy(*this); }

std::vector<float> Tensor::toVector() const { return backend().readToHost(*this); }

float Tensor::item() const {
    RAVEN_CHECK(numel() == 1, "item: " + shapeToString(shape_) + " has " + std::to_string(numel()) + " elements, not 1",
                "reduce the tensor to one element first (e.g. sum or mean)");
    return toVector()[0];
}

std::vector<std::byte> Tensor::toBytes(DType dtype) const { return encodeValues(toVector(), dtype); }

Tensor zeros(const Shape& shape, Backend& backend) { return backend.fill(shape, 0.0f); }

Tensor ones(const Shape& shape, Backend& backend) { return backend.fill(shape, 1.0f); }

Tensor full(const Shape& shape, float value, Backend& backend) { return backend.fill(shape, value); }

Tensor fromVector(const Shape& shape, const std::vector<float>& data, Backend& backend) {
    RAVEN_CHECK(static_cast<int64_t>(data.size()) == numelOf(shape),
                "fromVector: " + std::to_string(data.size()) + " values for shape " + shapeToString(shape) + " (" +
                    std::to_string(numelOf(shape)) + " elements)",
                "give exactly one value per element, in row-major order");
    return backend.upload(shape, data.data());
}

Tensor scalarTensor(float value, Backend& backend) { return backend.fill({}, value); }

Tensor fromBytes(const Shape& shape, DType dtype, const std::byte* bytes, size_t byteCount, Backend& backend) {
    const std::vector<float> values = decodeValues(bytes, byteCount, dtype);
    return fromVector(shape, values, backend);
}

Tensor randn(const Shape& shape, Generator& gen, Backend& backend) {
    std::vector<float> values(static_cast<size_t>(numelOf(shape)));
    for (float& v : values) v = static_cast<float>(gen.nextNormal());
    return backend.upload(shape, values.data());
}

Tensor uniform(const Shape& shape, float low, float high, Generator& gen, Backend& backend) {
    std::vector<float> values(static_cast<size_t>(numelOf(shape)));
    for (float& v : values) v = low + (high - low) * gen.nextFloat();
    return backend.upload(shape, values.data());
}

}  // namespace raven
