#include "worker/PacedGradient.h"

#include <QElapsedTimer>

#include <algorithm>

namespace raven::worker {

bool computesInChunks(const nn::Model& model, const data::Samples& samples, const DutyCycle& duty) {
    return duty.percent() < 100 && model.buffers().empty() && samples.count() > kFirstChunk;
}

training::GradientSums computeGradientSumsPaced(nn::Model& model, const data::Samples& samples,
                                                const data::Normalization& normalization, DutyCycle& duty,
                                                double* restedSeconds) {
    if (!computesInChunks(model, samples, duty)) return training::computeGradientSums(model, samples, normalization);
    training::GradientSums total;
    std::int64_t chunk = kFirstChunk;
    for (std::int64_t begin = 0; begin < samples.count();) {
        const std::int64_t n = std::min(chunk, samples.count() - begin);
        QElapsedTimer clock;
        clock.start();
        training::GradientSums part = training::computeGradientSums(model, samples.slice(begin, n), normalization);
        const double seconds = std::max(1e-4, static_cast<double>(clock.nsecsElapsed()) / 1e9);
        if (total.gradient.empty()) {
            total.gradient = std::move(part.gradient);
        } else {
            for (std::size_t i = 0; i < total.gradient.size(); ++i) total.gradient[i] += part.gradient[i];
        }
        total.samples += part.samples;
        total.lossSum += part.lossSum;
        total.correct += part.correct;
        begin += n;
        // The next chunk takes about kChunkSeconds at this chunk's speed.
        chunk = std::clamp<std::int64_t>(static_cast<std::int64_t>(kChunkSeconds * static_cast<double>(n) / seconds),
                                         kFirstChunk / 2, std::max<std::int64_t>(kFirstChunk, samples.count()));
        if (begin < samples.count()) {
            const auto rested = duty.restBetweenChunks();
            if (restedSeconds) *restedSeconds += std::chrono::duration<double>(rested).count();
        }
    }
    return total;
}

}  // namespace raven::worker
