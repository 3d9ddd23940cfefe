#include "worker/UnitTimeline.h"

#include <QtGlobal>

#include <algorithm>
#include <cstdio>

namespace raven::worker {
namespace {

constexpr std::size_t kMaxOpen = 4096;
constexpr std::size_t kMaxKept = 8192;  // per stretch: a worker that runs for months keeps its recent units

void keep(std::vector<double>& values, double value) {
    if (values.size() >= kMaxKept) values.erase(values.begin(), values.begin() + kMaxKept / 2);
    values.push_back(value);
}

double ms(UnitTimeline::Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double median(std::vector<double> values) {
    if (values.empty()) return 0.0;
    const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), middle, values.end());
    return *middle;
}

// `value` with `decimals` digits after the point.
std::string number(double value, int decimals) {
    char text[32];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

}  // namespace

UnitTimeline::UnitTimeline()
    : origin_(Clock::now()),
      originUnixMs_(
          std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count()),
      traceEach_(qEnvironmentVariableIsSet("RAVEN_UNIT_TIMELINE")) {}

void UnitTimeline::stamp(std::uint64_t serial, Stage stage, Clock::time_point now) {
    const auto index = static_cast<std::size_t>(stage);
    if (stage == Stage::Granted) {
        // Units that left without a word to the timeline (a reconnect, a stop) must not pile up: the
        // oldest go first (serials only grow).
        while (open_.size() >= kMaxOpen) open_.erase(open_.begin());
        open_[serial] = Stamps{};
    } else if (!open_.count(serial)) {
        return;  // granted before the timeline began, or forgotten
    }
    Stamps& stamps = open_[serial];
    stamps[index] = now;
    if (stage == Stage::ComputeStarted) {
        if (firstStart_ == Clock::time_point{}) firstStart_ = now;
        if (lastEndSeen_) {
            // What held the compute thread back: inputs that came after it was free, or its own delay.
            const Clock::time_point ready = stamps[static_cast<std::size_t>(Stage::Ready)];
            const double gap = ms(now - lastEnd_);
            if (ready > lastEnd_) {
                keep(gapsWaiting_, gap);
            } else {
                keep(gapsOnHand_, gap);
            }
        }
    }
    if (stage == Stage::ComputeEnded) {
        busyMs_ += ms(now - stamps[static_cast<std::size_t>(Stage::ComputeStarted)]);
        lastEnd_ = now;
        lastEndSeen_ = true;
    }
    if (stage == Stage::Answered) {
        if (traceEach_) {
            // One line per unit: ms since the timeline began at each stage (RAVEN_UNIT_TIMELINE=1).
            std::string line = "raven-worker: unit timeline:";
            for (const Clock::time_point t : stamps)
                line += " " + (t == Clock::time_point{} ? std::string("-") : number(ms(t - origin_), 1));
            // The wall clock of the timeline's start, so that several workers' lines can be lined up.
            line += " (origin " + number(originUnixMs_, 0) + " unix ms)";
            std::fprintf(stderr, "%s\n", line.c_str());
        }
        for (std::size_t i = 0; i + 1 < stamps.size(); ++i)
            if (stamps[i] != Clock::time_point{} && stamps[i + 1] != Clock::time_point{})
                keep(stretches_[i], ms(stamps[i + 1] - stamps[i]));
        open_.erase(serial);
    }
}

std::string UnitTimeline::summary() const {
    if (stretches_[static_cast<std::size_t>(Stage::Sent)].empty()) return {};
    static const char* names[] = {"grant->ready", "ready->start",  "compute",
                                  "encode",       "encoded->sent", "sent->answered"};
    std::string text;
    for (std::size_t i = 0; i < std::size(names); ++i)
        text += std::string(i ? ", " : "") + names[i] + " " + number(median(stretches_[i]), 1);
    text += " ms (medians)";
    const double wall = lastEndSeen_ ? ms(lastEnd_ - firstStart_) : 0.0;
    if (wall > 0) {
        std::vector<double> all = gapsWaiting_;
        all.insert(all.end(), gapsOnHand_.begin(), gapsOnHand_.end());
        text += "; compute thread busy " + number(100.0 * busyMs_ / wall, 0) + "% of " + number(wall / 1000, 1) +
                " s, gaps " + number(median(all), 1) + " ms (" + std::to_string(gapsWaiting_.size()) +
                " waiting for inputs, median " + number(median(gapsWaiting_), 1) + " ms; " +
                std::to_string(gapsOnHand_.size()) + " with inputs on hand, median " + number(median(gapsOnHand_), 1) +
                " ms)";
    }
    return text;
}

}  // namespace raven::worker
