#pragma once
// The coordinator's side of the wire conventions: ids travel as decimal strings of the store's
// integer ids, job states map to wire::JobState, times are Unix milliseconds.
#include <QDateTime>
#include <QString>

#include <string>

#include "ledger/StoreTypes.h"
#include "protocol/raven.pb.h"

namespace raven::coordinator {

std::string idText(qint64 id);
// A positive decimal id; refuses INVALID_ARGUMENT naming `what` ("job_id") otherwise.
qint64 parseId(const std::string& text, const char* what);

// `failed`: the job was stopped by the coordinator (its message says why), not by its requester.
wire::JobState wireState(ledger::JobState state, bool failed = false);

std::uint64_t unixMs(const QDateTime& time);
QDateTime utcNow();

}  // namespace raven::coordinator
