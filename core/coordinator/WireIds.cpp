#include "coordinator/WireIds.h"

#include <charconv>

#include "coordinator/RequestError.h"
#include "protocol/BoundedText.h"

namespace raven::coordinator {

std::string idText(qint64 id) { return std::to_string(id); }

qint64 parseId(const std::string& text, const char* what) {
    qint64 value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    // The length bound first: leading zeros would otherwise let "000...0001" of any size name id 1.
    if (text.empty() || text.size() > 19 || ec != std::errc() || ptr != end || value <= 0)
        refuse(wire::ERROR_CODE_INVALID_ARGUMENT,
               QStringLiteral("%1 \"%2\" is not an id").arg(QLatin1String(what), protocol::quotePeer(text, 40)),
               QStringLiteral("ids are positive decimal numbers, as the coordinator gave them"));
    return value;
}

wire::JobState wireState(ledger::JobState state, bool failed) {
    switch (state) {
        case ledger::JobState::Queued:
            return wire::JOB_STATE_QUEUED;
        case ledger::JobState::Running:
            return wire::JOB_STATE_RUNNING;
        case ledger::JobState::Paused:
            return wire::JOB_STATE_PAUSED;
        case ledger::JobState::Done:
            return wire::JOB_STATE_COMPLETED;
        case ledger::JobState::Cancelled:
            return failed ? wire::JOB_STATE_FAILED : wire::JOB_STATE_CANCELLED;
        case ledger::JobState::OutOfBudget:
            return wire::JOB_STATE_BUDGET_EXHAUSTED;
    }
    return wire::JOB_STATE_UNSPECIFIED;
}

std::uint64_t unixMs(const QDateTime& time) { return static_cast<std::uint64_t>(time.toMSecsSinceEpoch()); }

QDateTime utcNow() { return QDateTime::currentDateTimeUtc(); }

}  // namespace raven::coordinator
