// raven_strided.glsl: element offsets of strided views. Kernels receive views coalesced on the host
// to at most R_MAX_RANK dimensions (shape and per-operand strides in push constants, in elements);
// element i of the logical row-major order lies at offset + sum_d coord_d(i) * stride_d.
#ifndef RAVEN_STRIDED_GLSL
#define RAVEN_STRIDED_GLSL

#define R_MAX_RANK 6

// The offset of row-major element i of a view with the given rank, shape and strides. i must be below
// the product of the shape: then the outermost coordinate is what remains after the inner ones, with
// no division (a contiguous view, coalesced to rank 1, needs none at all; integer division is the
// costliest part of these kernels, and on CPU implementations it is not even vectorized).
#define R_STRIDED_OFFSET(result, i, base, rankValue, shapeArray, strideArray) \
    {                                                                          \
        uint rem_ = (i);                                                       \
        uint off_ = (base);                                                    \
        for (int d_ = int(rankValue) - 1; d_ > 0; --d_) {                      \
            uint size_ = shapeArray[d_];                                       \
            off_ += (rem_ % size_) * strideArray[d_];                          \
            rem_ /= size_;                                                     \
        }                                                                      \
        result = off_ + rem_ * strideArray[0];                                 \
    }

#endif
