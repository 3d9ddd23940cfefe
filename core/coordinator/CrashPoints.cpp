#include "coordinator/CrashPoints.h"

#include <QByteArray>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>

#include "base/Error.h"

namespace raven::coordinator {

namespace {

struct Named {
    CrashPoint point;
    const char* name;
};

constexpr std::array kNames{
    Named{CrashPoint::ResultGradientWritten, "result-gradient-written"},
    Named{CrashPoint::ResultSaved, "result-saved"},
    Named{CrashPoint::ResultAccepted, "result-accepted"},
    Named{CrashPoint::StateWritten, "state-written"},
    Named{CrashPoint::VersionStored, "version-stored"},
    Named{CrashPoint::CheckpointWritten, "checkpoint-written"},
    Named{CrashPoint::RewindStateWritten, "rewind-state-written"},
    Named{CrashPoint::PublishedWritten, "published-written"},
    Named{CrashPoint::RoundWeightsWritten, "round-weights-written"},
    Named{CrashPoint::AheadLaneAccepted, "ahead-lane-accepted"},
};

const char* nameOf(CrashPoint point) {
    for (const Named& n : kNames)
        if (n.point == point) return n.name;
    return "?";
}

// What RAVEN_CRASH_POINT asked for: one point, and either its nth arrival or a chance per arrival.
struct Plan {
    CrashPoint point = CrashPoint::ResultSaved;
    long long nth = 1;         // 0 when probability is used
    double probability = 0.0;  // per arrival
    long long arrivals = 0;
    std::mt19937_64 random;
};

Plan plan;

[[noreturn]] void badValue(const QString& value) {
    fail("RAVEN_CRASH_POINT=" + value.toStdString() + " does not name a crash point and when to reach it",
         "use NAME, NAME:N (the Nth arrival, N >= 1) or NAME:pP (each arrival with probability 0 < P <= 1), "
         "NAME one of: " +
             crashPointNames().join(", ").toStdString() + "; or unset it to run without crash points");
}

}  // namespace

namespace detail {

bool crashPointsArmed = false;

void reachCrashPoint(CrashPoint point) {
    if (point != plan.point) return;
    // Result points are reached on the coordinator's thread pool, by two batches at once.
    static std::mutex arriving;
    const std::lock_guard lock(arriving);
    ++plan.arrivals;
    const bool now = plan.nth > 0 ? plan.arrivals == plan.nth
                                  : std::uniform_real_distribution<double>(0.0, 1.0)(plan.random) < plan.probability;
    if (!now) return;
    std::fprintf(stderr, "raven-coordinator: crash point %s reached (arrival %lld): ending the process\n",
                 nameOf(point), plan.arrivals);
    std::fflush(stderr);
    std::_Exit(kCrashExitCode);
}

}  // namespace detail

QStringList crashPointNames() {
    QStringList names;
    for (const Named& n : kNames) names << QString::fromLatin1(n.name);
    return names;
}

void armCrashPoints() {
    const QString value = qEnvironmentVariable("RAVEN_CRASH_POINT").trimmed();
    detail::crashPointsArmed = false;
    if (value.isEmpty()) return;
    const QString name = value.section(':', 0, 0);
    const QString when = value.section(':', 1);
    const int index = int(crashPointNames().indexOf(name));
    if (index < 0) badValue(value);
    plan = Plan{};
    plan.point = kNames[std::size_t(index)].point;
    bool ok = true;
    if (when.startsWith('p')) {
        plan.nth = 0;
        plan.probability = when.mid(1).toDouble(&ok);
        if (!ok || !(plan.probability > 0.0 && plan.probability <= 1.0)) badValue(value);
    } else if (!when.isEmpty()) {
        plan.nth = when.toLongLong(&ok);
        if (!ok || plan.nth < 1) badValue(value);
    }
    const QString seed = qEnvironmentVariable("RAVEN_CRASH_SEED");
    const unsigned long long seedValue = seed.isEmpty() ? 1ull : seed.toULongLong(&ok);
    if (!ok) fail("RAVEN_CRASH_SEED=" + seed.toStdString() + " is not a number", "use an unsigned integer, or unset it");
    plan.random.seed(seedValue);
    detail::crashPointsArmed = true;
    std::fprintf(stderr, "raven-coordinator: crash point %s armed (a test facility; unset RAVEN_CRASH_POINT to disarm)\n",
                 qPrintable(value));
}

}  // namespace raven::coordinator
