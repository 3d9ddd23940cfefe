#include "cpu/kernels/Embedding.h"

#include <algorithm>
#include <string>

#include "cpu/kernels/Checks.h"

namespace raven::cpu::kernels {

using detail::requireAtLeast;

void EmbeddingShape::validate() const {
    requireAtLeast("embedding", "vocabulary", vocabulary, 1);
    requireAtLeast("embedding", "dim", dim, 1);
    requireAtLeast("embedding", "count", count, 0);
    if (paddingIndex < -1 || paddingIndex >= vocabulary)
        fail("embedding: padding index " + std::to_string(paddingIndex) + " is outside the vocabulary of " +
                 std::to_string(vocabulary) + " entries",
             "use -1 for no padding index, or an index in 0.." + std::to_string(vocabulary - 1));
}

namespace {

// Checked up front and on the calling thread, so that a bad index never throws inside a worker.
void checkIndices(const EmbeddingShape& s, const int64_t* indices) {
    for (int64_t i = 0; i < s.count; ++i)
        if (indices[i] < 0 || indices[i] >= s.vocabulary)
            fail("embedding: index " + std::to_string(indices[i]) + " at position " + std::to_string(i) +
                     " is outside the vocabulary of " + std::to_string(s.vocabulary) + " entries",
                 "token ids must lie in 0.." + std::to_string(s.vocabulary - 1) +
                     "; check the tokenizer or the model's vocabulary size");
}

constexpr int64_t columnBlock = 64;

}  // namespace

void embedding_forward(const EmbeddingShape& s, const int64_t* indices, const float* weight, float* y,
                       const ParallelFor& parallel) {
    s.validate();
    checkIndices(s, indices);
    forEachItem(parallel, s.count, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
            std::copy(weight + indices[i] * s.dim, weight + (indices[i] + 1) * s.dim, y + i * s.dim);
    });
}

void embedding_backward(const EmbeddingShape& s, const int64_t* indices, const float* dy, float* dweight,
                        const ParallelFor& parallel) {
    s.validate();
    checkIndices(s, indices);
    const int64_t blocks = (s.dim + columnBlock - 1) / columnBlock;
    forEachItem(parallel, blocks, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b) {
            const int64_t c0 = b * columnBlock, c1 = std::min(s.dim, c0 + columnBlock);
            for (int64_t v = 0; v < s.vocabulary; ++v)
                std::fill(dweight + v * s.dim + c0, dweight + v * s.dim + c1, 0.0f);
            for (int64_t i = 0; i < s.count; ++i) {
                if (indices[i] == s.paddingIndex) continue;
                float* row = dweight + indices[i] * s.dim;
                const float* grad = dy + i * s.dim;
                for (int64_t c = c0; c < c1; ++c) row[c] += grad[c];
            }
        }
    });
}

}  // namespace raven::cpu::kernels
