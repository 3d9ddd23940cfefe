#pragma once
// Embedding lookup (torch.nn.functional.embedding): row indices[i] of the table becomes row i of y.
//
//   indices is [count], int64 (PyTorch's index type, so index tensors move unchanged)
//   weight  is [vocabulary, dim]  (PyTorch's `weight`)
//   y       is [count, dim]
//
// An index outside [0, vocabulary) is a raven::Error naming the index, its position and the vocabulary
// size, raised before anything is written. paddingIndex (PyTorch's padding_idx; -1 for none) names a
// row that receives no gradient.
//
// The backward scatter-adds dy into dweight in index order (position 0 first), over blocks of columns
// in parallel, so repeated indices always sum in the same order.
#include <cstdint>

#include "cpu/kernels/Parallel.h"

namespace raven::cpu::kernels {

struct EmbeddingShape {
    int64_t vocabulary = 1;
    int64_t dim = 1;
    int64_t count = 1;  // number of indices (all index dimensions flattened)
    int64_t paddingIndex = -1;

    // Throws raven::Error for non-positive sizes or a padding index outside the vocabulary.
    void validate() const;
};

void embedding_forward(const EmbeddingShape& shape, const int64_t* indices, const float* weight, float* y,
                       const ParallelFor& parallel = {});

// WRITES dweight [vocabulary, dim] (rows never indexed are zero).
void embedding_backward(const EmbeddingShape& shape, const int64_t* indices, const float* dy, float* dweight,
                        const ParallelFor& parallel = {});

}  // namespace raven::cpu::kernels
