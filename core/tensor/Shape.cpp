#include "tensor/Shape.h"

#include <algorithm>

#include "base/Checked.h"
#include "base/Error.h"

namespace raven {

std::string shapeToString(const Shape& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ",";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

namespace {
[[noreturn]] void tooLarge(const Shape& shape, const std::string& what) {
    fail("shape " + shapeToString(shape) + ": " + what + " does not fit in 64 bits",
         "use smaller sizes: no tensor can hold that many elements (check the input or spec it comes from)");
}
}  // namespace

int64_t numelOf(const Shape& shape) {
    const auto n = checkedProduct(shape);
    if (!n) tooLarge(shape, "the element count");
    return *n;
}

int64_t byteSizeOf(const Shape& shape, int64_t elementBytes) {
    const auto bytes = mulOrNothing(numelOf(shape), elementBytes);
    if (!bytes) tooLarge(shape, "the size in bytes (" + std::to_string(elementBytes) + " per element)");
    return *bytes;
}

Strides contiguousStrides(const Shape& shape) {
    Strides strides(shape.size());
    int64_t s = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = s;
        if (i == 0) break;  // the outermost size scales no stride
        const auto next = mulOrNothing(s, std::max<int64_t>(shape[i], 1));
        if (!next) tooLarge(shape, "a stride");
        s = *next;
    }
    return strides;
}

int normalizeAxis(int64_t axis, int64_t rank, const char* op, const Shape& shape) {
    const int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
        fail(std::string(op) + ": axis " + std::to_string(axis) + " is out of range for shape " + shapeToString(shape) +
                 " (rank " + std::to_string(rank) + ")",
             "use an axis in [" + std::to_string(-rank) + ", " + std::to_string(rank - 1) + "]");
    }
    return static_cast<int>(a);
}

std::vector<int> normalizeAxes(const std::vector<int64_t>& axes, int64_t rank, const char* op, const Shape& shape) {
    std::vector<int> out;
    if (axes.empty()) {
        for (int i = 0; i < rank; ++i) out.push_back(i);
        return out;
    }
    for (int64_t a : axes) out.push_back(normalizeAxis(a, rank, op, shape));
    std::sort(out.begin(), out.end());
    if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
        fail(std::string(op) + ": an axis is listed twice for shape " + shapeToString(shape), "list each axis once");
    }
    return out;
}

Shape broadcastShapes(const Shape& a, const Shape& b, const char* op) {
    const size_t rank = std::max(a.size(), b.size());
    Shape out(rank);
    for (size_t i = 0; i < rank; ++i) {
        const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (da != db && da != 1 && db != 1) {
            fail(std::string(op) + ": " + shapeToString(a) + " and " + shapeToString(b) + ": sizes " +
                     std::to_string(da) + " and " + std::to_string(db) + " cannot be broadcast",
                 "broadcasting needs equal sizes or a size of 1 in each dimension (aligned at the last)");
        }
        out[i] = da == 1 ? db : da;
    }
    return out;
}

bool isBroadcastableTo(const Shape& from, const Shape& to) {
    if (from.size() > to.size()) return false;
    const size_t lead = to.size() - from.size();
    for (size_t i = 0; i < from.size(); ++i) {
        if (from[i] != to[lead + i] && from[i] != 1) return false;
    }
    return true;
}

}  // namespace raven
