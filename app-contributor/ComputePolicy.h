#pragma once
// ComputePolicy: "may this machine compute now, and how hard", decided from everything that matters,
// as one pure function over a snapshot, so that every rule is a row in a test.
//
//   PolicyInputs in;  in.now = QDateTime::currentDateTime();  in.idle = IdleReading{45000, "Mutter"};
//   PolicyLimits limits = config.policyLimits();
//   PolicyDecision d = ComputePolicy::decide(in, limits);
//   // d.state == Computing, d.gpuPercent == 50, d.reason == "computing at 50% (GPU cap)"
//
// The rules, first match wins (the person's own word first, then what protects them):
//  1. no coordinator set up                                  -> NotSetUp
//  2. paused by the person                                   -> Paused
//  3. snoozed, until a time                                  -> Snoozed (with the countdown)
//  4. the machine is about to suspend                        -> Paused (the unit is handed back)
//  5. on battery, when the limit says so                     -> Paused
//  5b. the device at or above the temperature cap             -> Paused, until it has cooled to the cap
//      minus the hysteresis (so that it does not flap around the cap)
//  5c. the daily transfer cap reached                         -> Paused until midnight
//  6. a full-screen window or an "exclusive" program runs    -> Paused
//  7. outside the weekly hours                               -> Waiting (until the next window)
//  8. "only when idle" and the person was active recently    -> Waiting, or Computing at the lighter
//     limit when they chose "a lighter limit while I'm active"; a locked screen counts as away.
//  9. otherwise                                               -> Computing, at the GPU cap.
// The reason is always one sentence a volunteer understands; the tray and the window show it as is.
#include <QDateTime>
#include <QString>

#include <optional>

#include "WeeklySchedule.h"

namespace raven::contributor {

// How long the person has not touched keyboard or mouse, and who said so (shown in the status).
struct IdleReading {
    qint64 idleMs = 0;
    QString source;  // "Mutter", "ScreenSaver", "X11", "logind"
};

// What the desktop says right now (DesktopMonitor gathers it; tests write it by hand).
struct PolicyInputs {
    QDateTime now;                               // local time
    bool configured = true;                      // a coordinator and a token are set up
    bool pausedByUser = false;                   // "Pause" in the tray or window, or --pause
    QDateTime snoozedUntil;                      // invalid: not snoozed
    std::optional<IdleReading> idle;             // nullopt: no idle source answers
    bool screenLocked = false;                   // logind LockedHint or ScreenSaver Active
    bool preparingForSleep = false;              // logind PrepareForSleep(true) until (false)
    std::optional<bool> onBattery;               // nullopt: no power supply information
    QString fullScreenWindow;                    // the title of a full-screen window, empty: none
    QString exclusiveProgram;                    // the running "exclusive" program, empty: none
    std::optional<double> deviceCelsius;         // the computing device's temperature; nullopt: no sensor
    QString heatDevice = QStringLiteral("GPU");  // what the temperature is of, "GPU" or "CPU"
    qint64 transferredTodayBytes = 0;            // up and down since local midnight
    bool coolingDown = false;  // the last decision paused for heat: resume only below the cap - hysteresis
};

// What the person chose (ContributorConfig holds it).
struct PolicyLimits {
    enum class When { Always, WhenIdle };
    enum class WhileActive { Pause, Lighter };
    When when = When::WhenIdle;
    int idleMinutes = 3;
    WhileActive whileActive = WhileActive::Pause;
    int activeGpuPercent = 25;  // the lighter limit while the person is active
    bool pauseOnBattery = true;
    bool pauseOnFullScreen = true;
    int gpuCapPercent = 100;        // share of time the device computes (duty cycle between units)
    int cpuThreads = 0;             // 0: all
    WeeklySchedule schedule;        // empty: any time
    int temperatureCapCelsius = 0;  // 0: no cap
    int temperatureHysteresis = 5;  // degrees below the cap before computing again
    qint64 dailyTransferBytes = 0;  // 0: no cap
};

struct PolicyDecision {
    enum class State { Computing, Waiting, Paused, Snoozed, NotSetUp };
    State state = State::Waiting;
    int gpuPercent = 0;  // when Computing: the duty cycle to keep, 1..100
    int cpuThreads = 0;  // when Computing: 0 for all
    QString reason;      // "paused: on battery", "computing at 50% (GPU cap)"
    // When the decision can change by the clock alone (snooze ends, idle threshold reached, window
    // opens); invalid when only an input change can change it.
    QDateTime recheckAt;
    bool heatPause = false;  // paused by the temperature cap (the next decision is cooling down)

    bool computing() const { return state == State::Computing; }
    bool operator==(const PolicyDecision&) const = default;
};

class ComputePolicy {
public:
    static PolicyDecision decide(const PolicyInputs& in, const PolicyLimits& limits);

    // "2.0 GB", "750 MB": byte counts as the status sentences write them (powers of 1000).
    static QString bytes(qint64 n);
    // "45 s", "12 min", "2 h 05 min": durations as the status sentences write them.
    static QString duration(qint64 ms);
    // "snoozed until 14:00 (1 h 12 min left)"; "until tomorrow 09:00" when it is not today.
    static QString snoozeSentence(const QDateTime& until, const QDateTime& now);

    static QString stateName(PolicyDecision::State state);  // "computing", "waiting", ...

    // When a snooze given as text ends: "1h", "30m", "1h30m", "tomorrow" (next midnight), "14:00"
    // (today, or tomorrow when that time has passed). nullopt when the text is none of these.
    static std::optional<QDateTime> snoozeEnd(const QString& spec, const QDateTime& now);
};

}  // namespace raven::contributor
