#include "cpu/kernels/Dropout.h"

#include <algorithm>
#include <string>

#include "cpu/kernels/Checks.h"
#include "cpu/kernels/Philox.h"

namespace raven::cpu::kernels {

void DropoutShape::validate() const {
    detail::requireAtLeast("dropout", "count", count, 0);
    if (!(p >= 0.0f && p <= 1.0f))
        fail("dropout: probability " + std::to_string(p) + " is outside [0, 1]",
             "give the probability of dropping an element, e.g. 0.1");
}

bool dropout_keeps(uint64_t seed, uint64_t element, float p) {
    return uniformFromWord(philoxBlockOf(seed, element)[element & 3u]) >= p;
}

namespace {

constexpr int64_t elementsPerItem = 4096;  // a multiple of 4: one Philox block serves 4 elements

// out[i] = in[i] * scale where element i is kept, else 0.
void applyMask(const DropoutShape& s, const float* in, float* out, const ParallelFor& parallel) {
    s.validate();
    const float scale = s.p < 1.0f ? 1.0f / (1.0f - s.p) : 0.0f;
    forEachItem(parallel, (s.count + elementsPerItem - 1) / elementsPerItem, [&](int64_t begin, int64_t end) {
        for (int64_t item = begin; item < end; ++item) {
            const int64_t last = std::min(s.count, (item + 1) * elementsPerItem);
            PhiloxBlock words{};
            uint64_t wordsBlock = ~uint64_t{0};
            for (int64_t i = item * elementsPerItem; i < last; ++i) {
                const uint64_t element = s.offset + static_cast<uint64_t>(i);
                if (element >> 2 != wordsBlock) {
                    words = philoxBlockOf(s.seed, element);
                    wordsBlock = element >> 2;
                }
                out[i] = uniformFromWord(words[element & 3u]) >= s.p ? in[i] * scale : 0.0f;
            }
        }
    });
}

}  // namespace

void dropout_forward(const DropoutShape& s, const float* x, float* y, const ParallelFor& parallel) {
    applyMask(s, x, y, parallel);
}

void dropout_backward(const DropoutShape& s, const float* dy, float* dx, const ParallelFor& parallel) {
    applyMask(s, dy, dx, parallel);
}

}  // namespace raven::cpu::kernels
