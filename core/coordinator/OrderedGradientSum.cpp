#include "coordinator/OrderedGradientSum.h"

#include <QThread>

#include <algorithm>
#include <string>

#include "base/Error.h"
#include "coordinator/GradientBuffers.h"

namespace raven::coordinator {

namespace {

// Below this many values per slice, handing a slice to another thread costs more than it saves.
constexpr std::size_t kMinSliceValues = 32 * 1024;

}  // namespace

OrderedGradientSum::OrderedGradientSum(std::size_t parameters) : parameters_(parameters), sum_(parameters, 0.0f) {
    slices_.setMaxThreadCount(std::max(1, QThread::idealThreadCount() - 1));  // the caller sums one slice too
    slices_.setExpiryTimeout(-1);
}

void OrderedGradientSum::advance(const QList<ledger::WorkUnit>& units, const Take& take) {
    RAVEN_CHECK(static_cast<std::size_t>(units.size()) >= summedIds_.size(),
                "the step has " + std::to_string(units.size()) + " units but " + std::to_string(summedIds_.size()) +
                    " were summed already",
                "");
    for (std::size_t i = 0; i < summedIds_.size(); ++i)
        RAVEN_CHECK(units[static_cast<qsizetype>(i)].id == summedIds_[i],
                    "work unit " + std::to_string(units[static_cast<qsizetype>(i)].id) + " is not the unit " +
                        std::to_string(summedIds_[i]) + " summed at its place",
                    "");
    std::vector<StoredResult> run;
    std::vector<ledger::WorkUnitId> ids;
    for (qsizetype i = static_cast<qsizetype>(summedIds_.size()); i < units.size(); ++i) {
        if (units[i].state != ledger::WorkUnitState::Done) break;
        StoredResult r = take(units[i].id);
        RAVEN_CHECK(r.gradient.size() == parameters_,
                    "the result of work unit " + std::to_string(units[i].id) + " has " +
                        std::to_string(r.gradient.size()) + " values where the model has " +
                        std::to_string(parameters_),
                    "");
        run.push_back(std::move(r));
        ids.push_back(units[i].id);
    }
    if (run.empty()) return;
    addRun(run);
    for (std::size_t k = 0; k < run.size(); ++k) {
        samples_ += run[k].samples;
        lossSum_ += run[k].lossSum;
        correct_ += run[k].correct;
        if (!contributors_.contains(run[k].contributor)) contributors_ << run[k].contributor;
        summedIds_.push_back(ids[k]);
    }
    // Each gradient's memory goes once it is in the sum: to the next result's decode.
    for (StoredResult& r : run) GradientBuffers::shared().giveBack(std::move(r.gradient));
}

void OrderedGradientSum::addRun(const std::vector<StoredResult>& run) {
    const auto addSlice = [this, &run](std::size_t begin, std::size_t end) {
        float* sum = sum_.data();
        for (const StoredResult& r : run) {  // unit id order, as averageGradients
            const float* g = r.gradient.data();
            for (std::size_t i = begin; i < end; ++i) sum[i] += g[i];
        }
    };
    const std::size_t threads = static_cast<std::size_t>(slices_.maxThreadCount()) + 1;
    const std::size_t slices = std::clamp<std::size_t>(parameters_ / kMinSliceValues, 1, threads);
    const std::size_t per = (parameters_ + slices - 1) / slices;
    for (std::size_t s = 1; s < slices; ++s) {
        const std::size_t begin = s * per, end = std::min(parameters_, begin + per);
        slices_.start([addSlice, begin, end] { addSlice(begin, end); });
    }
    addSlice(0, std::min(parameters_, per));
    slices_.waitForDone();
}

std::vector<float> OrderedGradientSum::takeGradient() {
    std::vector<float> out = std::move(sum_);
    reset();
    return out;
}

void OrderedGradientSum::reset() {
    sum_.assign(parameters_, 0.0f);
    summedIds_.clear();
    samples_ = 0;
    lossSum_ = 0.0;
    correct_ = 0;
    contributors_.clear();
}

}  // namespace raven::coordinator
