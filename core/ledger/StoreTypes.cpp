#include "ledger/StoreTypes.h"

#include "base/Error.h"

#include <array>
#include <utility>

namespace raven::ledger {

namespace {

constexpr std::array<std::pair<JobState, const char*>, 6> kJobStates{{
    {JobState::Queued, "queued"},
    {JobState::Running, "running"},
    {JobState::Paused, "paused"},
    {JobState::Done, "done"},
    {JobState::Cancelled, "cancelled"},
    {JobState::OutOfBudget, "out_of_budget"},
}};

constexpr std::array<std::pair<WorkUnitState, const char*>, 4> kWorkUnitStates{{
    {WorkUnitState::Pending, "pending"},
    {WorkUnitState::Leased, "leased"},
    {WorkUnitState::Done, "done"},
    {WorkUnitState::Expired, "expired"},
}};

constexpr std::array<std::pair<CreditState, const char*>, 3> kCreditStates{{
    {CreditState::Pending, "pending"},
    {CreditState::Confirmed, "confirmed"},
    {CreditState::Revoked, "revoked"},
}};

constexpr std::array<std::pair<RevokeReason, const char*>, 3> kRevokeReasons{{
    {RevokeReason::ReplayMismatch, "replay_mismatch"},
    {RevokeReason::Quarantined, "quarantined"},
    {RevokeReason::Outlier, "outlier"},
}};

}  // namespace

QString nameOf(CreditState state) {
    for (const auto& [value, name] : kCreditStates)
        if (value == state) return QString::fromLatin1(name);
    RAVEN_ASSERT(false, "unknown CreditState value");
}

QString nameOf(RevokeReason reason) {
    for (const auto& [value, name] : kRevokeReasons)
        if (value == reason) return QString::fromLatin1(name);
    RAVEN_ASSERT(false, "unknown RevokeReason value");
}

CreditState creditStateFromString(const QString& text) {
    for (const auto& [value, name] : kCreditStates)
        if (text == QLatin1String(name)) return value;
    fail("unknown credit state '" + text.toStdString() + "'", "use one of pending, confirmed, revoked");
}

QString nameOf(JobState state) {
    for (const auto& [value, name] : kJobStates)
        if (value == state) return QString::fromLatin1(name);
    RAVEN_ASSERT(false, "unknown JobState value");
}

QString nameOf(WorkUnitState state) {
    for (const auto& [value, name] : kWorkUnitStates)
        if (value == state) return QString::fromLatin1(name);
    RAVEN_ASSERT(false, "unknown WorkUnitState value");
}

JobState jobStateFromString(const QString& text) {
    for (const auto& [value, name] : kJobStates)
        if (text == QLatin1String(name)) return value;
    fail("unknown job state '" + text.toStdString() + "'",
         "use one of queued, running, paused, done, cancelled, out_of_budget");
}

WorkUnitState workUnitStateFromString(const QString& text) {
    for (const auto& [value, name] : kWorkUnitStates)
        if (text == QLatin1String(name)) return value;
    fail("unknown work unit state '" + text.toStdString() + "'", "use one of pending, leased, done, expired");
}

bool isTerminal(JobState state) { return state == JobState::Done || state == JobState::Cancelled; }

}  // namespace raven::ledger
