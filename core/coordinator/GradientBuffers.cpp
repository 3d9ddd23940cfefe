#include "coordinator/GradientBuffers.h"

namespace raven::coordinator {

GradientBuffers& GradientBuffers::shared() {
    static GradientBuffers buffers;
    return buffers;
}

std::vector<float> GradientBuffers::take(std::size_t elements) {
    std::lock_guard lock(mutex_);
    if (kept_.empty() || kept_.back().size() != elements) {  // all kept buffers have one size
        ++missed_;
        return {};
    }
    std::vector<float> buffer = std::move(kept_.back());
    kept_.pop_back();
    ++reused_;
    return buffer;
}

void GradientBuffers::giveBack(std::vector<float>&& buffer) {
    if (buffer.empty()) return;
    std::vector<std::vector<float>> dropped;  // freed after the lock is let go
    std::lock_guard lock(mutex_);
    // Jobs of different models take turns: keep the size given back last, drop the others.
    if (!kept_.empty() && kept_.front().size() != buffer.size()) dropped.swap(kept_);
    if ((kept_.size() + 1) * buffer.size() * sizeof(float) > kKeptBytes) return;  // not kept: the caller frees it
    kept_.push_back(std::move(buffer));
}

std::size_t GradientBuffers::keptBuffers() const {
    std::lock_guard lock(mutex_);
    return kept_.size();
}

std::size_t GradientBuffers::reused() const {
    std::lock_guard lock(mutex_);
    return reused_;
}

std::size_t GradientBuffers::missed() const {
    std::lock_guard lock(mutex_);
    return missed_;
}

}  // namespace raven::coordinator
