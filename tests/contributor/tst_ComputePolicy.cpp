// The contributor's policy as rows: every condition alone, then the combinations where the order of
// the rules decides (the person's pause beats everything, battery beats idle, a snooze beats battery,
// the schedule beats idleness, the lighter limit never exceeds the GPU cap). Each row states the
// expected state, GPU share and the reason sentence a volunteer reads. Also the weekly schedule and
// the snooze texts.
#include <QTest>

#include "ComputePolicy.h"
#include "WeeklySchedule.h"

using namespace raven::contributor;
using State = PolicyDecision::State;

Q_DECLARE_METATYPE(PolicyInputs)
Q_DECLARE_METATYPE(PolicyLimits)
Q_DECLARE_METATYPE(PolicyDecision::State)

namespace {

// Tuesday 1 December 2026, 10:00 local time.
QDateTime tuesday(int h = 10, int m = 0, int s = 0) { return QDateTime(QDate(2026, 12, 1), QTime(h, m, s)); }

PolicyInputs idleFor(qint64 ms, const QString& source = QStringLiteral("Mutter")) {
    PolicyInputs in;
    in.now = tuesday();
    in.idle = IdleReading{ms, source};
    in.onBattery = false;
    return in;
}

PolicyLimits limits(int cap = 100) {
    PolicyLimits l;
    l.gpuCapPercent = cap;
    l.idleMinutes = 3;
    return l;
}

PolicyLimits with(PolicyLimits l, const QString& schedule) {
    l.schedule = *WeeklySchedule::parse(schedule);
    return l;
}

}  // namespace

class TestComputePolicy : public QObject {
    Q_OBJECT
private slots:
    void decides_data() {
        QTest::addColumn<PolicyInputs>("in");
        QTest::addColumn<PolicyLimits>("limits");
        QTest::addColumn<PolicyDecision::State>("state");
        QTest::addColumn<int>("gpuPercent");
        QTest::addColumn<QString>("reason");

        const qint64 away = 10 * 60000;  // 10 minutes idle: past the 3-minute threshold
        PolicyInputs in;

        // --- each condition alone ---
        QTest::newRow("idle long enough, no cap")
            << idleFor(away) << limits() << State::Computing << 100 << "computing";
        QTest::newRow("idle, 50% GPU cap")
            << idleFor(away) << limits(50) << State::Computing << 50 << "computing at 50% (GPU cap)";
        QTest::newRow("active 12 s ago, pause while active")
            << idleFor(12000) << limits() << State::Waiting << 0
            << "waiting: you were active 12 s ago (idle source: Mutter)";
        QTest::newRow("active, idle source named (ScreenSaver)")
            << idleFor(65000, "ScreenSaver") << limits() << State::Waiting << 0
            << "waiting: you were active 1 min ago (idle source: ScreenSaver)";
        {
            PolicyLimits l = limits();
            l.whileActive = PolicyLimits::WhileActive::Lighter;
            l.activeGpuPercent = 25;
            QTest::newRow("active, lighter limit") << idleFor(5000) << l << State::Computing << 25
                                                   << "computing at 25% (lighter while you are active): you were "
                                                      "active 5 s ago (idle source: Mutter)";
        }
        {
            PolicyLimits l = limits();
            l.when = PolicyLimits::When::Always;
            QTest::newRow("always, even while active") << idleFor(0) << l << State::Computing << 100 << "computing";
        }
        in = idleFor(away);
        in.idle.reset();
        QTest::newRow("no idle source, only when idle")
            << in << limits() << State::Waiting << 0
            << "waiting: this desktop does not tell when you are idle; choose \"Compute: always\" in Settings to "
               "compute anyway";
        in = idleFor(1000);
        in.screenLocked = true;
        QTest::newRow("locked screen counts as away")
            << in << limits(60) << State::Computing << 60 << "computing at 60% (GPU cap): the screen is locked";
        in = idleFor(away);
        in.onBattery = true;
        QTest::newRow("on battery") << in << limits() << State::Paused << 0
                                    << "paused: on battery (resumes on mains power)";
        {
            PolicyLimits l = limits();
            l.pauseOnBattery = false;
            QTest::newRow("on battery, allowed by the person") << in << l << State::Computing << 100 << "computing";
        }
        in = idleFor(away);
        in.onBattery.reset();
        QTest::newRow("no power information: not on battery")
            << in << limits() << State::Computing << 100 << "computing";
        in = idleFor(away);
        in.preparingForSleep = true;
        QTest::newRow("going to sleep") << in << limits() << State::Paused << 0
                                        << "paused: the computer is going to sleep (work handed back)";
        in = idleFor(away);
        in.fullScreenWindow = QStringLiteral("Game");
        QTest::newRow("full-screen window")
            << in << limits() << State::Paused << 0 << "paused: a full-screen window is open (Game)";
        {
            PolicyLimits l = limits();
            l.pauseOnFullScreen = false;
            QTest::newRow("full-screen window, allowed") << in << l << State::Computing << 100 << "computing";
        }
        in = idleFor(away);
        in.exclusiveProgram = QStringLiteral("blender");
        QTest::newRow("exclusive program")
            << in << limits() << State::Paused << 0 << "paused: blender is running (an exclusive program)";
        in = idleFor(away);
        in.pausedByUser = true;
        QTest::newRow("paused by the person")
            << in << limits() << State::Paused << 0 << "paused by you: choose Resume to compute again";
        in = idleFor(away);
        in.snoozedUntil = tuesday(14, 0);
        QTest::newRow("snoozed until 14:00")
            << in << limits() << State::Snoozed << 0 << "snoozed until 14:00 (4 h 00 min left)";
        in.snoozedUntil = tuesday(10, 0, 45);
        QTest::newRow("snooze countdown in seconds")
            << in << limits() << State::Snoozed << 0 << "snoozed until 10:00 (45 s left)";
        in.snoozedUntil = QDateTime(QDate(2026, 12, 2), QTime(0, 0));
        QTest::newRow("snoozed until tomorrow")
            << in << limits() << State::Snoozed << 0 << "snoozed until tomorrow 00:00 (14 h 00 min left)";
        in.snoozedUntil = tuesday(9, 0);
        QTest::newRow("snooze over") << in << limits() << State::Computing << 100 << "computing";
        in = idleFor(away);
        in.configured = false;
        QTest::newRow("not set up") << in << limits() << State::NotSetUp << 0
                                    << "not set up: choose a coordinator to contribute to";
        QTest::newRow("inside the weekly hours")
            << idleFor(away) << with(limits(), "Mon-Fri 08:00-12:00") << State::Computing << 100 << "computing";
        QTest::newRow("outside the weekly hours (evenings only)")
            << idleFor(away) << with(limits(), "Mon-Fri 18:00-23:00") << State::Waiting << 0
            << "waiting: outside your hours, next from 18:00";
        QTest::newRow("outside the weekly hours (weekends only)")
            << idleFor(away) << with(limits(), "Sat,Sun all") << State::Waiting << 0
            << "waiting: outside your hours, next from Sat 00:00";
        QTest::newRow("weekly hours, all off") << idleFor(away) << with(limits(), "Mon-Sun off") << State::Waiting << 0
                                               << "waiting: your hours allow no time at all";

        // --- the temperature cap (80 C, 5 C of hysteresis) ---
        {
            PolicyLimits l = limits(50);
            l.temperatureCapCelsius = 80;
            l.temperatureHysteresis = 5;
            in = idleFor(away);
            in.deviceCelsius = 86.2;
            QTest::newRow("GPU above the temperature cap")
                << in << l << State::Paused << 0 << "paused: GPU at 86 C (cap 80 C)";
            in.deviceCelsius = 80.0;
            QTest::newRow("GPU at the temperature cap")
                << in << l << State::Paused << 0 << "paused: GPU at 80 C (cap 80 C)";
            in.deviceCelsius = 79.0;
            QTest::newRow("just under the cap, not cooling down")
                << in << l << State::Computing << 50 << "computing at 50% (GPU cap)";
            in.coolingDown = true;
            QTest::newRow("just under the cap, cooling down")
                << in << l << State::Paused << 0 << "paused: GPU at 79 C, cooling down to 75 C (cap 80 C)";
            in.deviceCelsius = 75.0;
            QTest::newRow("cooled to the cap minus the hysteresis")
                << in << l << State::Computing << 50 << "computing at 50% (GPU cap)";
            in = idleFor(away);
            in.deviceCelsius = 91.0;
            in.heatDevice = QStringLiteral("CPU");
            QTest::newRow("CPU above the cap") << in << l << State::Paused << 0 << "paused: CPU at 91 C (cap 80 C)";
            in.deviceCelsius.reset();  // no sensor: never guessed, the cap cannot apply
            QTest::newRow("no sensor: the cap does not apply")
                << in << l << State::Computing << 50 << "computing at 50% (GPU cap)";
            PolicyLimits off = l;
            off.temperatureCapCelsius = 0;
            in.deviceCelsius = 99.0;
            QTest::newRow("no cap set") << in << off << State::Computing << 50 << "computing at 50% (GPU cap)";
            in = idleFor(away);
            in.deviceCelsius = 90.0;
            in.onBattery = true;
            QTest::newRow("battery beats heat")
                << in << l << State::Paused << 0 << "paused: on battery (resumes on mains power)";
            in.onBattery = false;
            in.exclusiveProgram = QStringLiteral("steam");
            QTest::newRow("heat beats an exclusive program")
                << in << l << State::Paused << 0 << "paused: GPU at 90 C (cap 80 C)";
        }

        // --- the daily transfer cap (2.0 GB) ---
        {
            PolicyLimits l = limits();
            l.dailyTransferBytes = 2000LL * 1000 * 1000;
            in = idleFor(away);
            in.transferredTodayBytes = l.dailyTransferBytes;
            QTest::newRow("daily transfer cap reached")
                << in << l << State::Paused << 0 << "paused: daily transfer cap reached (2.0 GB), resumes at midnight";
            in.transferredTodayBytes = l.dailyTransferBytes - 1;
            QTest::newRow("daily transfer just under the cap") << in << l << State::Computing << 100 << "computing";
            l.dailyTransferBytes = 0;
            in.transferredTodayBytes = 50LL * 1000 * 1000 * 1000;
            QTest::newRow("no transfer cap") << in << l << State::Computing << 100 << "computing";
        }

        // --- combinations: which rule wins ---
        in = idleFor(away);
        in.pausedByUser = true;
        in.snoozedUntil = tuesday(14, 0);
        in.onBattery = true;
        QTest::newRow("pause beats snooze and battery")
            << in << limits() << State::Paused << 0 << "paused by you: choose Resume to compute again";
        in = idleFor(away);
        in.snoozedUntil = tuesday(11, 0);
        in.onBattery = true;
        QTest::newRow("snooze beats battery")
            << in << limits() << State::Snoozed << 0 << "snoozed until 11:00 (1 h 00 min left)";
        in = idleFor(away);
        in.onBattery = true;
        in.preparingForSleep = true;
        QTest::newRow("sleep beats battery")
            << in << limits() << State::Paused << 0 << "paused: the computer is going to sleep (work handed back)";
        in = idleFor(away);
        in.onBattery = true;
        in.exclusiveProgram = QStringLiteral("steam");
        QTest::newRow("battery beats exclusive program")
            << in << limits() << State::Paused << 0 << "paused: on battery (resumes on mains power)";
        in = idleFor(away);
        in.exclusiveProgram = QStringLiteral("steam");
        QTest::newRow("exclusive program beats the hours") << in << with(limits(), "Sat all") << State::Paused << 0
                                                           << "paused: steam is running (an exclusive program)";
        QTest::newRow("hours beat idleness") << idleFor(1000) << with(limits(), "Sat all") << State::Waiting << 0
                                             << "waiting: outside your hours, next from Sat 00:00";
        {
            PolicyLimits l = limits(20);
            l.whileActive = PolicyLimits::WhileActive::Lighter;
            l.activeGpuPercent = 40;
            QTest::newRow("lighter limit never above the cap")
                << idleFor(2000) << l << State::Computing << 20
                << "computing at 20% (lighter while you are active): you were active 2 s ago (idle source: Mutter)";
        }
        in = idleFor(away);
        in.onBattery = true;
        {
            PolicyLimits l = limits(30);
            l.pauseOnBattery = false;
            l.when = PolicyLimits::When::Always;
            QTest::newRow("always + battery allowed + cap")
                << in << l << State::Computing << 30 << "computing at 30% (GPU cap)";
        }
        in = idleFor(3 * 60000);
        QTest::newRow("idle exactly the threshold") << in << limits() << State::Computing << 100 << "computing";
        in = idleFor(3 * 60000 - 1);
        QTest::newRow("idle just under the threshold")
            << in << limits() << State::Waiting << 0 << "waiting: you were active 3 min ago (idle source: Mutter)";
    }

    void decides() {
        QFETCH(PolicyInputs, in);
        QFETCH(PolicyLimits, limits);
        QFETCH(PolicyDecision::State, state);
        QFETCH(int, gpuPercent);
        QFETCH(QString, reason);
        const PolicyDecision d = ComputePolicy::decide(in, limits);
        QCOMPARE(d.reason, reason);
        QCOMPARE(d.state, state);
        QCOMPARE(d.heatPause, reason.contains(QLatin1String(" C (cap ")));
        if (state == State::Computing) QCOMPARE(d.gpuPercent, gpuPercent);
        // The same snapshot always gives the same decision: nothing hidden feeds it.
        QCOMPARE(ComputePolicy::decide(in, limits), d);
    }

    void transferCapResumesAtMidnight() {
        PolicyLimits l = limits();
        l.dailyTransferBytes = 750LL * 1000 * 1000;
        PolicyInputs in = idleFor(10 * 60000);
        in.transferredTodayBytes = 800LL * 1000 * 1000;
        const PolicyDecision d = ComputePolicy::decide(in, l);
        QCOMPARE(d.reason, QStringLiteral("paused: daily transfer cap reached (750 MB), resumes at midnight"));
        QCOMPARE(d.recheckAt, QDateTime(QDate(2026, 12, 2), QTime(0, 0)));
        QCOMPARE(ComputePolicy::bytes(999), QStringLiteral("999 bytes"));
        QCOMPARE(ComputePolicy::bytes(2500LL * 1000 * 1000), QStringLiteral("2.5 GB"));
    }

    void lighterLimitUsesFewerThreads() {
        PolicyLimits l = limits();
        l.whileActive = PolicyLimits::WhileActive::Lighter;
        l.cpuThreads = 8;
        QCOMPARE(ComputePolicy::decide(idleFor(1000), l).cpuThreads, 4);
        QCOMPARE(ComputePolicy::decide(idleFor(10 * 60000), l).cpuThreads, 8);
    }

    void recheckTimes() {
        // Waiting for idleness: asked again in a second (the "12 s ago" counts up).
        QCOMPARE(ComputePolicy::decide(idleFor(12000), limits()).recheckAt, tuesday(10, 0, 1));
        // Outside the hours: when they open.
        QCOMPARE(ComputePolicy::decide(idleFor(600000), with(limits(), "Tue 18:00-19:00")).recheckAt, tuesday(18, 0));
        // Computing inside the hours: when they close.
        QCOMPARE(ComputePolicy::decide(idleFor(600000), with(limits(), "Tue 08:00-12:30")).recheckAt, tuesday(12, 30));
    }

    void schedule_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QDateTime>("when");
        QTest::addColumn<bool>("allowed");
        QTest::newRow("empty: always") << "" << tuesday(3) << true;
        QTest::newRow("weekday range, inside") << "Mon-Fri 09:00-17:00" << tuesday(9) << true;
        QTest::newRow("weekday range, end excluded") << "Mon-Fri 09:00-17:00" << tuesday(17) << false;
        QTest::newRow("night window, evening") << "Tue 22:00-06:00" << tuesday(23) << true;
        QTest::newRow("night window, next morning") << "Mon 22:00-06:00" << tuesday(5, 59) << true;
        QTest::newRow("night window, after it") << "Mon 22:00-06:00" << tuesday(6) << false;
        QTest::newRow("wrapping day range Fri-Tue") << "Fri-Tue all" << tuesday(12) << true;
        QTest::newRow("list of days") << "Sat,Sun all" << tuesday(12) << false;
        QTest::newRow("two entries") << "Mon 10:00-11:00; Tue 10:00-11:00" << tuesday(10, 30) << true;
        QTest::newRow("day not named is closed") << "Wed all" << tuesday(10) << false;
        QTest::newRow("off") << "Tue off" << tuesday(10) << false;
    }
    void schedule() {
        QFETCH(QString, text);
        QFETCH(QDateTime, when);
        QFETCH(bool, allowed);
        const auto s = WeeklySchedule::parse(text);
        QVERIFY(s);
        QCOMPARE(s->allows(when), allowed);
    }

    void scheduleRefusesNonsense_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("error");
        QTest::newRow("no hours") << "Mon"
                                  << "write a day and hours";
        QTest::newRow("bad day") << "Mox 10:00-11:00"
                                 << "is not a day";
        QTest::newRow("bad hours") << "Mon 25:00-26:00"
                                   << "is not hours";
        QTest::newRow("bad minutes") << "Mon 10:61-11:00"
                                     << "is not hours";
    }
    void scheduleRefusesNonsense() {
        QFETCH(QString, text);
        QFETCH(QString, error);
        QString why;
        QVERIFY(!WeeklySchedule::parse(text, &why));
        QVERIFY2(why.contains(error), qPrintable(why));
    }

    void snoozeTexts_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<QDateTime>("until");
        QTest::newRow("an hour") << "1h" << tuesday(11);
        QTest::newRow("minutes") << "30m" << tuesday(10, 30);
        QTest::newRow("both") << "1h30m" << tuesday(11, 30);
        QTest::newRow("min spelled") << "45 min" << tuesday(10, 45);
        QTest::newRow("tomorrow") << "tomorrow" << QDateTime(QDate(2026, 12, 2), QTime(0, 0));
        QTest::newRow("a time today") << "14:00" << tuesday(14);
        QTest::newRow("a time passed: tomorrow") << "09:00" << QDateTime(QDate(2026, 12, 2), QTime(9, 0));
        QTest::newRow("nonsense") << "soon" << QDateTime();
        QTest::newRow("zero") << "0m" << QDateTime();
        QTest::newRow("bad clock") << "25:00" << QDateTime();
    }
    void snoozeTexts() {
        QFETCH(QString, spec);
        QFETCH(QDateTime, until);
        const auto got = ComputePolicy::snoozeEnd(spec, tuesday());
        QCOMPARE(got.value_or(QDateTime()), until);
    }

    void durations() {
        QCOMPARE(ComputePolicy::duration(0), QStringLiteral("0 s"));
        QCOMPARE(ComputePolicy::duration(59400), QStringLiteral("59 s"));
        QCOMPARE(ComputePolicy::duration(12 * 60000), QStringLiteral("12 min"));
        QCOMPARE(ComputePolicy::duration(125 * 60000), QStringLiteral("2 h 05 min"));
    }
};

QTEST_GUILESS_MAIN(TestComputePolicy)
#include "tst_ComputePolicy.moc"
