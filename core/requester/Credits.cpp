#include "requester/Credits.h"

#include <cmath>

#include "base/Error.h"

namespace raven::requester {

std::int64_t parseCredits(const QString& text) {
    bool ok = false;
    const double credits = text.trimmed().toDouble(&ok);
    RAVEN_CHECK(ok && std::isfinite(credits) && credits >= 0,
                "'" + text.toStdString() + "' is not an amount of credits",
                "write a number of credits such as 25 or 0.5");
    const double micro = std::round(credits * double(kMicroCreditsPerCredit));
    RAVEN_CHECK(micro < 9.0e18, "the amount " + text.toStdString() + " credits is too large",
                "amounts are at most 9,000,000,000,000 credits");
    return static_cast<std::int64_t>(micro);
}

QString formatCredits(std::int64_t microCredits) {
    const bool negative = microCredits < 0;
    // Unsigned arithmetic: the magnitude of INT64_MIN does not fit in an int64.
    const std::uint64_t magnitude =
        negative ? 0 - static_cast<std::uint64_t>(microCredits) : static_cast<std::uint64_t>(microCredits);
    const std::uint64_t whole = magnitude / kMicroCreditsPerCredit;
    std::uint64_t fraction = magnitude % kMicroCreditsPerCredit;
    QString text = (negative ? QStringLiteral("-") : QString()) + QString::number(whole);
    if (fraction != 0) {
        QString digits = QString::number(fraction).rightJustified(6, QLatin1Char('0'));
        while (digits.endsWith(QLatin1Char('0'))) digits.chop(1);
        text += QLatin1Char('.') + digits;
    }
    return text;
}

QString jobStateName(wire::JobState state) {
    switch (state) {
        case wire::JOB_STATE_QUEUED:
            return QStringLiteral("queued");
        case wire::JOB_STATE_RUNNING:
            return QStringLiteral("running");
        case wire::JOB_STATE_PAUSED:
            return QStringLiteral("paused");
        case wire::JOB_STATE_COMPLETED:
            return QStringLiteral("completed");
        case wire::JOB_STATE_CANCELLED:
            return QStringLiteral("cancelled");
        case wire::JOB_STATE_BUDGET_EXHAUSTED:
            return QStringLiteral("budget exhausted");
        case wire::JOB_STATE_FAILED:
            return QStringLiteral("failed");
        default:
            return QStringLiteral("unknown");
    }
}

bool isFinished(wire::JobState state) {
    return state == wire::JOB_STATE_COMPLETED || state == wire::JOB_STATE_CANCELLED ||
           state == wire::JOB_STATE_BUDGET_EXHAUSTED || state == wire::JOB_STATE_FAILED;
}

}  // namespace raven::requester
