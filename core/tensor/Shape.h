#pragma once
// Shapes and the rules that relate them.
//
// A Shape lists a tensor's sizes from the outermost dimension to the innermost, e.g. [batch, features].
// A shape of rank 0 ([]) is a scalar with one element. Strides are counted in elements, not bytes.
//
// Broadcasting follows NumPy (and PyTorch): shapes are aligned at their last dimension; two sizes
// agree when they are equal or one of them is 1; a missing leading dimension counts as 1.
// Every mismatch is a raven::Error whose message names both shapes and the operation.
#include <cstdint>
#include <string>
#include <vector>

namespace raven {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

// "[3,4]" (and "[]" for a scalar), for error messages.
std::string shapeToString(const Shape& shape);

// Number of elements: the product of the sizes (1 for a scalar). Sizes come from files, specs and
// peers, so the product is checked: one that does not fit in int64_t is a raven::Error naming the
// shape (never a wrapped, small count that would pass a size check).
int64_t numelOf(const Shape& shape);

// numelOf(shape) * elementBytes, checked the same way.
int64_t byteSizeOf(const Shape& shape, int64_t elementBytes);

// Row-major strides of a contiguous tensor of this shape; a raven::Error when one does not fit in
// int64_t.
Strides contiguousStrides(const Shape& shape);

// Maps a possibly negative axis (-1 = last) into [0, rank); throws naming `op` and the shape if out of range.
int normalizeAxis(int64_t axis, int64_t rank, const char* op, const Shape& shape);

// Normalizes a list of axes: each mapped into [0, rank), sorted, duplicates rejected.
// An empty list means "every axis".
std::vector<int> normalizeAxes(const std::vector<int64_t>& axes, int64_t rank, const char* op, const Shape& shape);

// The broadcast shape of a and b; throws "op: [2,3] and [4]: sizes 3 and 4 cannot be broadcast".
Shape broadcastShapes(const Shape& a, const Shape& b, const char* op);

// True when `from` can be broadcast (expanded) to `to` without changing `to`.
bool isBroadcastableTo(const Shape& from, const Shape& to);

}  // namespace raven
