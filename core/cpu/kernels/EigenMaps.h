#pragma once
// Private to the kernels' .cpp files (Eigen stays out of public headers): Eigen views of row-major
// float32 buffers, so that a GEMM reads and writes the caller's memory without copies.
#include <cstdint>

#include <Eigen/Core>

namespace raven::cpu::kernels::detail {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;

inline MatrixMap matrix(float* data, int64_t rows, int64_t cols) {
    return MatrixMap(data, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
}
inline ConstMatrixMap matrix(const float* data, int64_t rows, int64_t cols) {
    return ConstMatrixMap(data, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
}

}  // namespace raven::cpu::kernels::detail
