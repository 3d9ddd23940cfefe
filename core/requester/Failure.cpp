#include "requester/Failure.h"

#include "base/Error.h"

namespace raven::requester {

QString hintFor(wire::ErrorCode code) {
    switch (code) {
        case wire::ERROR_CODE_UNAUTHENTICATED:
            return QStringLiteral(
                "check the API key (--api-key, --api-key-file or RAVEN_API_KEY); the coordinator's operator issues "
                "keys");
        case wire::ERROR_CODE_PERMISSION_DENIED:
            return QStringLiteral(
                "a requester can only see and control its own jobs; check the job id with `raven jobs`");
        case wire::ERROR_CODE_NOT_FOUND:
            return QStringLiteral("check the id; `raven jobs` lists your jobs");
        case wire::ERROR_CODE_BUDGET_EXHAUSTED:
            return QStringLiteral("`raven balance` shows your funds: lower --budget or ask the operator for credits");
        case wire::ERROR_CODE_UNAVAILABLE:
            return QStringLiteral("check that the coordinator is running and reachable, then try again");
        case wire::ERROR_CODE_VERSION_MISMATCH:
            return QStringLiteral("update the older of this program and the coordinator");
        case wire::ERROR_CODE_INTERNAL:
            return QStringLiteral("the coordinator failed; its log says why, tell its operator");
        default:
            return {};
    }
}

Failure Failure::fromError(const wire::Error& error) {
    Failure f;
    f.code = error.code();
    f.message = QString::fromStdString(error.message());
    f.hint = QString::fromStdString(error.hint());
    if (f.message.isEmpty()) f.message = QStringLiteral("the coordinator refused the request");
    if (f.hint.isEmpty()) f.hint = hintFor(f.code);
    return f;
}

QString Failure::text() const { return hint.isEmpty() ? message : message + QStringLiteral("\n  hint: ") + hint; }

void Failure::raise() const { throw raven::Error(message.toStdString(), hint.toStdString()); }

}  // namespace raven::requester
