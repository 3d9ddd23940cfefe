#include "ComputePolicy.h"

#include <QLocale>
#include <QRegularExpression>

#include <algorithm>

namespace raven::contributor {

namespace {

using State = PolicyDecision::State;

constexpr int kTemperatureRecheckSeconds = 5;

PolicyDecision make(State state, const QString& reason, const QDateTime& recheckAt = {}) {
    PolicyDecision d;
    d.state = state;
    d.reason = reason;
    d.recheckAt = recheckAt;
    return d;
}

PolicyDecision computing(int gpuPercent, int cpuThreads, const QString& reason, const QDateTime& recheckAt = {}) {
    PolicyDecision d = make(State::Computing, reason, recheckAt);
    d.gpuPercent = std::clamp(gpuPercent, 1, 100);
    d.cpuThreads = std::max(0, cpuThreads);
    return d;
}

QString clock(const QDateTime& t) { return t.time().toString(QStringLiteral("HH:mm")); }

// "14:00", "tomorrow 09:00" or "Sat 09:00", relative to now.
QString when(const QDateTime& t, const QDateTime& now) {
    if (t.date() == now.date()) return clock(t);
    if (t.date() == now.date().addDays(1)) return QStringLiteral("tomorrow ") + clock(t);
    return QLocale::c().dayName(t.date().dayOfWeek(), QLocale::ShortFormat) + QLatin1Char(' ') + clock(t);
}

}  // namespace

QString ComputePolicy::bytes(qint64 n) {
    if (n >= 1000LL * 1000 * 1000) return QStringLiteral("%1 GB").arg(static_cast<double>(n) / 1e9, 0, 'f', 1);
    if (n >= 1000LL * 1000) return QStringLiteral("%1 MB").arg(static_cast<double>(n) / 1e6, 0, 'f', 0);
    if (n >= 1000) return QStringLiteral("%1 kB").arg(static_cast<double>(n) / 1e3, 0, 'f', 0);
    return QStringLiteral("%1 bytes").arg(n);
}

QString ComputePolicy::duration(qint64 ms) {
    const qint64 s = std::max<qint64>(0, (ms + 500) / 1000);
    if (s < 60) return QStringLiteral("%1 s").arg(s);
    const qint64 min = s / 60;
    if (min < 60) return QStringLiteral("%1 min").arg(min);
    return QStringLiteral("%1 h %2 min").arg(min / 60).arg(min % 60, 2, 10, QLatin1Char('0'));
}

QString ComputePolicy::snoozeSentence(const QDateTime& until, const QDateTime& now) {
    return QStringLiteral("snoozed until %1 (%2 left)").arg(when(until, now), duration(now.msecsTo(until)));
}

QString ComputePolicy::stateName(PolicyDecision::State state) {
    switch (state) {
        case State::Computing:
            return QStringLiteral("computing");
        case State::Waiting:
            return QStringLiteral("waiting");
        case State::Paused:
            return QStringLiteral("paused");
        case State::Snoozed:
            return QStringLiteral("snoozed");
        case State::NotSetUp:
            return QStringLiteral("not set up");
    }
    return {};
}

std::optional<QDateTime> ComputePolicy::snoozeEnd(const QString& spec, const QDateTime& now) {
    const QString s = spec.trimmed().toLower();
    if (s == QLatin1String("tomorrow")) return QDateTime(now.date().addDays(1), QTime(0, 0));
    static const QRegularExpression clockRe(QStringLiteral("^(\\d{1,2}):(\\d{2})$"));
    if (const auto m = clockRe.match(s); m.hasMatch()) {
        const QTime t(m.captured(1).toInt(), m.captured(2).toInt());
        if (!t.isValid()) return std::nullopt;
        QDateTime at(now.date(), t);
        return at > now ? at : QDateTime(now.date().addDays(1), t);
    }
    static const QRegularExpression spanRe(QStringLiteral("^(?:(\\d+)\\s*h)?\\s*(?:(\\d+)\\s*m(?:in)?)?$"));
    const auto m = spanRe.match(s);
    if (s.isEmpty() || !m.hasMatch() || (m.captured(1).isEmpty() && m.captured(2).isEmpty())) return std::nullopt;
    const qint64 minutes = m.captured(1).toLongLong() * 60 + m.captured(2).toLongLong();
    if (minutes <= 0 || minutes > 7 * 24 * 60) return std::nullopt;
    return now.addSecs(minutes * 60);
}

PolicyDecision ComputePolicy::decide(const PolicyInputs& in, const PolicyLimits& limits) {
    if (!in.configured)
        return make(State::NotSetUp, QStringLiteral("not set up: choose a coordinator to contribute to"));
    if (in.pausedByUser) return make(State::Paused, QStringLiteral("paused by you: choose Resume to compute again"));
    if (in.snoozedUntil.isValid() && in.snoozedUntil > in.now)
        // The countdown in the sentence changes every second, so ask to be asked again.
        return make(State::Snoozed, snoozeSentence(in.snoozedUntil, in.now),
                    std::min(in.snoozedUntil, in.now.addSecs(1)));
    if (in.preparingForSleep)
        return make(State::Paused, QStringLiteral("paused: the computer is going to sleep (work handed back)"));
    if (limits.pauseOnBattery && in.onBattery.value_or(false))
        return make(State::Paused, QStringLiteral("paused: on battery (resumes on mains power)"));
    if (limits.temperatureCapCelsius > 0 && in.deviceCelsius) {
        const int celsius = qRound(*in.deviceCelsius);
        const int resumeBelow = limits.temperatureCapCelsius - std::max(0, limits.temperatureHysteresis);
        // The sensors are read every few seconds; ask again then.
        PolicyDecision hot;
        if (*in.deviceCelsius >= limits.temperatureCapCelsius)
            hot = make(State::Paused,
                       QStringLiteral("paused: %1 at %2 C (cap %3 C)")
                           .arg(in.heatDevice)
                           .arg(celsius)
                           .arg(limits.temperatureCapCelsius),
                       in.now.addSecs(kTemperatureRecheckSeconds));
        else if (in.coolingDown && *in.deviceCelsius > resumeBelow)
            hot = make(State::Paused,
                       QStringLiteral("paused: %1 at %2 C, cooling down to %3 C (cap %4 C)")
                           .arg(in.heatDevice)
                           .arg(celsius)
                           .arg(resumeBelow)
                           .arg(limits.temperatureCapCelsius),
                       in.now.addSecs(kTemperatureRecheckSeconds));
        if (hot.state == State::Paused) {
            hot.heatPause = true;
            return hot;
        }
    }
    if (limits.dailyTransferBytes > 0 && in.transferredTodayBytes >= limits.dailyTransferBytes)
        return make(State::Paused,
                    QStringLiteral("paused: daily transfer cap reached (%1), resumes at midnight")
                        .arg(bytes(limits.dailyTransferBytes)),
                    QDateTime(in.now.date().addDays(1), QTime(0, 0)));
    if (!in.exclusiveProgram.isEmpty())
        return make(State::Paused,
                    QStringLiteral("paused: %1 is running (an exclusive program)").arg(in.exclusiveProgram));
    if (limits.pauseOnFullScreen && !in.fullScreenWindow.isEmpty())
        return make(State::Paused,
                    QStringLiteral("paused: a full-screen window is open (%1)").arg(in.fullScreenWindow));
    if (!limits.schedule.allows(in.now)) {
        const QDateTime opens = limits.schedule.nextOpening(in.now);
        return make(State::Waiting,
                    opens.isValid()
                        ? QStringLiteral("waiting: outside your hours, next from %1").arg(when(opens, in.now))
                        : QStringLiteral("waiting: your hours allow no time at all"),
                    opens);
    }
    // The schedule closing is the next clock-driven change while computing.
    const QDateTime closes = limits.schedule.nextClosing(in.now);

    const int cap = std::clamp(limits.gpuCapPercent, 1, 100);
    auto full = [&](const QString& why) {
        const QString sentence =
            cap < 100 ? QStringLiteral("computing at %1% (GPU cap)").arg(cap) : QStringLiteral("computing");
        return computing(cap, limits.cpuThreads, why.isEmpty() ? sentence : sentence + QStringLiteral(": ") + why,
                         closes);
    };
    if (limits.when == PolicyLimits::When::Always) return full({});

    if (in.screenLocked) return full(QStringLiteral("the screen is locked"));
    if (!in.idle)
        return make(State::Waiting, QStringLiteral("waiting: this desktop does not tell when you are idle; choose "
                                                   "\"Compute: always\" in Settings to compute anyway"));
    const qint64 needMs = qint64(std::max(0, limits.idleMinutes)) * 60000;
    if (in.idle->idleMs >= needMs) return full({});
    const QString active =
        QStringLiteral("you were active %1 ago (idle source: %2)").arg(duration(in.idle->idleMs), in.idle->source);
    if (limits.whileActive == PolicyLimits::WhileActive::Lighter) {
        const int lighter = std::min(cap, std::clamp(limits.activeGpuPercent, 1, 100));
        return computing(lighter, limits.cpuThreads > 0 ? std::max(1, limits.cpuThreads / 2) : 1,
                         QStringLiteral("computing at %1% (lighter while you are active): %2").arg(lighter).arg(active),
                         in.now.addMSecs(std::max<qint64>(1000, needMs - in.idle->idleMs)));
    }
    // Asked again each second: the "12 s ago" in the sentence counts up.
    return make(State::Waiting, QStringLiteral("waiting: ") + active, in.now.addSecs(1));
}

}  // namespace raven::contributor
