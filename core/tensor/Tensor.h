#pragma once
// Tensor: an n-dimensional array of float32 values that lives on a Backend (the CPU, a Vulkan device).
//
// Model (PyTorch's, without dtypes other than F32):
//  - A Tensor is a small handle: shape, strides (in elements), an offset (in elements) and a shared
//    Storage owned by a backend. Copying a Tensor copies the handle; both copies see the same values.
//  - Views share storage and copy nothing: reshape/view (of contiguous data), transpose, permute,
//    narrow, expand (a broadcast dimension gets stride 0), unsqueeze, squeeze. `contiguous()` copies
//    only when the layout is not already row-major and dense.
//  - Values never reach the host except through `toVector()` / `item()` (which call
//    Backend::readToHost, the synchronisation point of a lazily executing backend).
//  - A default-constructed Tensor is "undefined" (no storage); `defined()` tells.
//  - F16/BF16 exist only on the wire: `toBytes(DType)` and `fromBytes(...)` convert (DType.h).
//
//   Tensor a = fromVector({2, 3}, {1, 2, 3, 4, 5, 6});
//   Tensor t = a.transpose(0, 1);       // [3,2] view, same storage
//   Tensor c = t.contiguous();          // copies into row-major order
//   std::vector<float> v = c.toVector(); // {1, 4, 2, 5, 3, 6}
//
// Arithmetic on Tensors (without gradients) is in tensor/TensorOps.h; with gradients in autograd/.
#include <cstddef>
#include <memory>
#include <vector>

#include "tensor/DType.h"
#include "tensor/Shape.h"

namespace raven {

class Backend;
class Generator;

// A block of float32 elements owned by a backend. Backends subclass it with their own memory
// (host array, VkBuffer); only the owning backend looks inside.
class Storage {
public:
    Storage(Backend& backend, int64_t numel) : backend_(&backend), numel_(numel) {}
    virtual ~Storage() = default;
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    Backend& backend() const { return *backend_; }
    int64_t numel() const { return numel_; }

private:
    Backend* backend_;
    int64_t numel_;
};

class Tensor {
public:
    Tensor() = default;
    // A view of `storage`; checks that every element it can address lies inside the storage.
    Tensor(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset);
    // A contiguous tensor over the start of `storage`.
    Tensor(std::shared_ptr<Storage> storage, Shape shape);

    bool defined() const { return storage_ != nullptr; }
    const Shape& shape() const { return shape_; }
    const Strides& strides() const { return strides_; }
    int64_t offset() const { return offset_; }
    int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
    // Size of one axis; negative axes count from the end.
    int64_t size(int64_t axis) const;
    int64_t numel() const { return numelOf(shape_); }
    const std::shared_ptr<Storage>& storage() const { return storage_; }
    Backend& backend() const;
    // Row-major and dense (size-1 dimensions may have any stride).
    bool isContiguous() const;
    bool sharesStorageWith(const Tensor& other) const { return storage_ && storage_ == other.storage_; }

    // --- views (no copy) ---
    // Same elements, new shape; one size may be -1 (inferred). Throws if the layout needs a copy.
    Tensor view(Shape shape) const;
    // Like view, but copies first when the layout does not allow a view.
    Tensor reshape(Shape shape) const;
    // Dimensions start..end (inclusive, negative from the end) merged into one.
    Tensor flatten(int64_t startAxis = 0, int64_t endAxis = -1) const;
    Tensor transpose(int64_t axis0, int64_t axis1) const;
    // order[i] is the old axis that becomes axis i.
    Tensor permute(const std::vector<int64_t>& order) const;
    // Elements [start, start + length) along `axis`.
    Tensor narrow(int64_t axis, int64_t start, int64_t length) const;
    // Broadcast to `shape` (NumPy rules; -1 keeps a size): broadcast dimensions get stride 0.
    Tensor expand(const Shape& shape) const;
    Tensor unsqueeze(int64_t axis) const;
    // Removes `axis`, which must have size 1.
    Tensor squeeze(int64_t axis) const;

    // --- copies ---
    // This tensor if already contiguous, else a contiguous copy on the same backend.
    Tensor contiguous() const;
    // Always a new contiguous copy.
    Tensor clone() const;

    // --- host access (synchronises a lazy backend) ---
    std::vector<float> toVector() const;
    // The single value of a one-element tensor; throws otherwise.
    float item() const;
    std::vector<std::byte> toBytes(DType dtype) const;

private:
    std::shared_ptr<Storage> storage_;
    Shape shape_;
    Strides strides_;
    int64_t offset_ = 0;
};

// The CPU backend (defined in raven_cpu: link it to use the default arguments below).
Backend& cpuBackend();

// --- factories: every one takes the backend to allocate on, the CPU by default ---
Tensor zeros(const Shape& shape, Backend& backend = cpuBackend());
Tensor ones(const Shape& shape, Backend& backend = cpuBackend());
Tensor full(const Shape& shape, float value, Backend& backend = cpuBackend());
// Row-major values; throws naming the shape when data.size() != numel(shape).
Tensor fromVector(const Shape& shape, const std::vector<float>& data, Backend& backend = cpuBackend());
Tensor scalarTensor(float value, Backend& backend = cpuBackend());
Tensor fromBytes(const Shape& shape, DType dtype, const std::byte* bytes, size_t byteCount,
                 Backend& backend = cpuBackend());
// Values drawn on the host from `gen` (identical on every backend and platform), then uploaded.
Tensor randn(const Shape& shape, Generator& gen, Backend& backend = cpuBackend());
Tensor uniform(const Shape& shape, float low, float high, Generator& gen, Backend& backend = cpuBackend());

}  // namespace raven
