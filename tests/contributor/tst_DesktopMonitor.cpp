// DesktopMonitor against real D-Bus services on a private bus: the test starts itself again under
// dbus-run-session (a fresh session bus of its own, never the desktop's), and on that bus plays
// GNOME's Mutter idle monitor, the freedesktop ScreenSaver, logind (session and manager) and UPower.
// Each reading is checked as the services change: the idle layers in order (Mutter, then
// ScreenSaver, then logind) and named; lock from logind or the screensaver; PrepareForSleep; battery
// from UPower and, without it, from a power_supply folder; exclusive programs from a /proc folder;
// and, under an Xvfb of its own, the X server's idle time and a full-screen active window.
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusUnixFileDescriptor>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <poll.h>
#include <unistd.h>

#include "ComputePolicy.h"
#include "ContributionService.h"
#include "ContributorConfig.h"
#include "DesktopMonitor.h"
#include "FakeWindowManager.h"

using namespace raven::contributor;

// --- the fake desktop services ------------------------------------------------------------------

class FakeMutter : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.gnome.Mutter.IdleMonitor")
public:
    quint64 idleMs = 0;
public slots:
    quint64 GetIdletime() { return idleMs; }
};

class FakeScreenSaver : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.ScreenSaver")
public:
    uint idleMs = 0;
    bool active = false;
public slots:
    uint GetSessionIdleTime() { return idleMs; }
    bool GetActive() { return active; }
};

class FakeLogindSession : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.login1.Session")
    Q_PROPERTY(bool IdleHint MEMBER idleHint)
    Q_PROPERTY(quint64 IdleSinceHint MEMBER idleSinceHint)
    Q_PROPERTY(bool LockedHint MEMBER lockedHint)
public:
    bool idleHint = false;
    quint64 idleSinceHint = 0;  // µs since the epoch
    bool lockedHint = false;
};

// logind's manager: PrepareForSleep, and Inhibit as logind does it: the caller gets one end of a
// pipe, and the lock is held until every copy of that end is closed (then the other end reads EOF).
class FakeLogindManager : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.login1.Manager")
    Q_PROPERTY(quint64 InhibitDelayMaxUSec MEMBER inhibitDelayMaxUSec)
public:
    quint64 inhibitDelayMaxUSec = 5000000;
    QStringList lastInhibit;  // what, who, why, mode
    int inhibits = 0;
    std::vector<int> lockReadEnds;
    ~FakeLogindManager() override {
        for (int fd : lockReadEnds) ::close(fd);
    }
    // Locks still held: those whose read end has not reached EOF.
    int locksHeld() const {
        int held = 0;
        for (int fd : lockReadEnds) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 0) == 0) ++held;  // nothing to read, no hang-up: the writer is still open
        }
        return held;
    }
public slots:
    QDBusUnixFileDescriptor Inhibit(const QString& what, const QString& who, const QString& why, const QString& mode) {
        lastInhibit = {what, who, why, mode};
        ++inhibits;
        int ends[2];
        if (::pipe(ends) != 0) qFatal("pipe");
        lockReadEnds.push_back(ends[0]);
        QDBusUnixFileDescriptor fd(ends[1]);  // a copy of its own
        ::close(ends[1]);
        return fd;
    }
signals:
    void PrepareForSleep(bool start);
};

class FakeUPower : public QObject {
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.UPower")
    Q_PROPERTY(bool OnBattery MEMBER onBattery)
public:
    bool onBattery = false;
};

// Each service on a connection of its own, as separate processes would be.
struct Service {
    QDBusConnection bus;
    QString name;
    Service(const QString& serviceName, const QString& path, QObject* object)
        : bus(QDBusConnection::connectToBus(QDBusConnection::SessionBus, serviceName)), name(serviceName) {
        if (!bus.registerService(serviceName)) qFatal("cannot own %s", qPrintable(serviceName));
        if (!bus.registerObject(path, object,
                                QDBusConnection::ExportAllSlots | QDBusConnection::ExportAllProperties |
                                    QDBusConnection::ExportAllSignals))
            qFatal("cannot register %s", qPrintable(path));
    }
    ~Service() {
        bus.unregisterService(name);
        QDBusConnection::disconnectFromBus(name);
    }
};

class TestDesktopMonitor : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    // A monitor on the private bus (serving as session and system bus), with a fake power folder.
    std::unique_ptr<DesktopMonitor> monitor(const QString& power = {}) {
        auto m = std::make_unique<DesktopMonitor>(QDBusConnection::sessionBus(), QDBusConnection::sessionBus());
        m->setPowerSupplyDir(power.isEmpty() ? dir_.filePath("no-power") : power);
        m->setX11Display(QStringLiteral("none"));  // the X11 layer has a test of its own
        return m;
    }

    static void poll(DesktopMonitor& m) {
        QSignalSpy polled(&m, &DesktopMonitor::polled);
        m.pollNow();
        QVERIFY(polled.wait(5000));
    }

    static void writeFile(const QString& path, const QByteArray& text) {
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(text);
    }

private slots:
    void initTestCase() {
        QVERIFY2(qEnvironmentVariableIsSet("RAVEN_PRIVATE_BUS"), "runs on a private bus only (see main)");
        QVERIFY(QDBusConnection::sessionBus().isConnected());
    }

    void idleLayersInOrderAndNamed() {
        FakeMutter mutter;
        FakeScreenSaver screenSaver;
        FakeLogindSession session;
        mutter.idleMs = 12000;
        screenSaver.idleMs = 34000;
        session.idleHint = true;
        session.idleSinceHint = quint64(QDateTime::currentMSecsSinceEpoch() - 56000) * 1000;
        auto m = monitor();
        {
            Service a("org.gnome.Mutter.IdleMonitor", "/org/gnome/Mutter/IdleMonitor/Core", &mutter);
            Service b("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", &screenSaver);
            Service c("org.freedesktop.login1", "/org/freedesktop/login1/session/auto", &session);
            poll(*m);
            QVERIFY(m->idle());
            QCOMPARE(m->idle()->source, QStringLiteral("Mutter"));
            QCOMPARE(m->idle()->idleMs, 12000);

            // What the volunteer reads, from these inputs.
            PolicyInputs in;
            in.now = QDateTime::currentDateTime();
            m->fill(in);
            QCOMPARE(ComputePolicy::decide(in, PolicyLimits()).reason,
                     QStringLiteral("waiting: you were active 12 s ago (idle source: Mutter)"));
        }
        {
            Service b("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", &screenSaver);
            Service c("org.freedesktop.login1", "/org/freedesktop/login1/session/auto", &session);
            poll(*m);
            QVERIFY(m->idle());
            QCOMPARE(m->idle()->source, QStringLiteral("ScreenSaver"));
            QCOMPARE(m->idle()->idleMs, 34000);
        }
        {
            Service c("org.freedesktop.login1", "/org/freedesktop/login1/session/auto", &session);
            poll(*m);
            QVERIFY(m->idle());
            QCOMPARE(m->idle()->source, QStringLiteral("logind"));
            QVERIFY2(qAbs(m->idle()->idleMs - 56000) < 3000, qPrintable(QString::number(m->idle()->idleMs)));
            session.idleHint = false;
            poll(*m);
            QCOMPARE(m->idle()->idleMs, 0);
        }
        poll(*m);
        QVERIFY(!m->idle());  // nobody answers: unknown, not "idle"
    }

    // Under an Xvfb of its own, with synthetic input (xdotool through XTEST): the idle time the X
    // server counts, when no D-Bus source answers.
    void x11IdleUnderXvfb() {
        int n = 90;
        while (QFile::exists(QStringLiteral("/tmp/.X11-unix/X%1").arg(n)) ||
               QFile::exists(QStringLiteral("/tmp/.X%1-lock").arg(n)))
            ++n;
        const QString display = QStringLiteral(":%1").arg(n);
        QProcess xvfb;
        xvfb.start(QStringLiteral("Xvfb"), {display, "-screen", "0", "640x480x24", "-nolisten", "tcp"});
        QVERIFY2(xvfb.waitForStarted(), "Xvfb is missing (apt-get install xvfb)");
        const auto stop = qScopeGuard([&] {
            xvfb.terminate();
            xvfb.waitForFinished(5000);
        });
        QVERIFY(QTest::qWaitFor([&] { return QFile::exists(QStringLiteral("/tmp/.X11-unix/X%1").arg(n)); }, 10000));
        auto m = monitor();
        m->setX11Display(display);
        poll(*m);
        QVERIFY(m->idle());
        QCOMPARE(m->idle()->source, QStringLiteral("X11"));
        // Nobody touches this display: its idle time grows past a second and a half.
        QVERIFY(QTest::qWaitFor(
            [&] {
                poll(*m);
                return m->idle() && m->idle()->idleMs >= 1500;
            },
            10000));
        // Someone moves the mouse: the idle time starts again.
        QProcess xdotool;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("DISPLAY", display);
        xdotool.setProcessEnvironment(env);
        xdotool.start(QStringLiteral("xdotool"), {"mousemove", "100", "100", "mousemove", "200", "150"});
        QVERIFY2(xdotool.waitForFinished(10000) && xdotool.exitCode() == 0, "xdotool is missing or failed");
        poll(*m);
        QVERIFY2(m->idle()->idleMs < 1000, qPrintable(QString::number(m->idle()->idleMs)));

        // A full-screen window, as an EWMH window manager publishes it: the root's _NET_ACTIVE_WINDOW
        // names a window whose _NET_WM_STATE holds _NET_WM_STATE_FULLSCREEN.
        QVERIFY(m->fullScreenWindow().isEmpty());
        FakeWindowManager windowManager(display);
        QVERIFY(windowManager.connected());
        windowManager.showFullScreen(QStringLiteral("Space Game"));
        poll(*m);
        QCOMPARE(m->fullScreenWindow(), QStringLiteral("Space Game"));
        PolicyInputs in;
        in.now = QDateTime::currentDateTime();
        m->fill(in);
        QCOMPARE(ComputePolicy::decide(in, PolicyLimits()).reason,
                 QStringLiteral("paused: a full-screen window is open (Space Game)"));
        // It leaves full screen.
        windowManager.leaveFullScreen();
        poll(*m);
        QVERIFY(m->fullScreenWindow().isEmpty());
    }

    void lockFromLogindOrScreenSaver() {
        FakeLogindSession session;
        FakeScreenSaver screenSaver;
        Service c("org.freedesktop.login1", "/org/freedesktop/login1/session/auto", &session);
        Service b("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", &screenSaver);
        auto m = monitor();
        QSignalSpy changed(m.get(), &DesktopMonitor::changed);
        poll(*m);
        QVERIFY(!m->screenLocked());
        session.lockedHint = true;
        poll(*m);
        QVERIFY(m->screenLocked());
        QVERIFY(changed.count() > 0);
        session.lockedHint = false;
        screenSaver.active = true;
        poll(*m);
        QVERIFY(m->screenLocked());
        screenSaver.active = false;
        poll(*m);
        QVERIFY(!m->screenLocked());
    }

    void prepareForSleep() {
        FakeLogindManager manager;
        Service c("org.freedesktop.login1", "/org/freedesktop/login1", &manager);
        auto m = monitor();  // subscribes once the service exists
        QSignalSpy changed(m.get(), &DesktopMonitor::changed);
        emit manager.PrepareForSleep(true);
        QVERIFY(QTest::qWaitFor([&] { return m->preparingForSleep(); }, 5000));
        emit manager.PrepareForSleep(false);
        QVERIFY(QTest::qWaitFor([&] { return !m->preparingForSleep(); }, 5000));
        QCOMPARE(changed.count(), 2);
    }

    // The delay lock: taken at start, held through PrepareForSleep(true) until the app is ready,
    // released then, taken again after the resume; released by itself before logind's limit.
    void sleepDelayLock() {
        FakeLogindManager manager;
        manager.inhibitDelayMaxUSec = 1500000;
        Service c("org.freedesktop.login1", "/org/freedesktop/login1", &manager);
        auto m = monitor();
        m->start(100000);
        QVERIFY(QTest::qWaitFor([&] { return m->holdsSleepLock(); }, 5000));
        QCOMPARE(manager.lastInhibit.value(0), QStringLiteral("sleep"));
        QCOMPARE(manager.lastInhibit.value(3), QStringLiteral("delay"));
        QCOMPARE(manager.locksHeld(), 1);
        emit manager.PrepareForSleep(true);
        QVERIFY(QTest::qWaitFor([&] { return m->preparingForSleep(); }, 5000));
        QCOMPARE(manager.locksHeld(), 1);  // logind waits for us
        m->readyForSleep();
        QVERIFY(QTest::qWaitFor([&] { return manager.locksHeld() == 0; }, 2000));
        emit manager.PrepareForSleep(false);
        QVERIFY(QTest::qWaitFor([&] { return m->holdsSleepLock() && manager.locksHeld() == 1; }, 5000));
        QCOMPARE(manager.inhibits, 2);
        // Nobody says ready: the lock goes a little before logind's 1.5 s.
        QElapsedTimer clock;
        clock.start();
        emit manager.PrepareForSleep(true);
        QVERIFY(QTest::qWaitFor([&] { return manager.locksHeld() == 0; }, 3000));
        QVERIFY2(clock.elapsed() < 1500, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(!m->holdsSleepLock());
    }

    // The service stops its worker before sleep and only then lets logind go on.
    void serviceHandsBackBeforeSleep() {
        FakeLogindManager manager;
        manager.inhibitDelayMaxUSec = 20000000;  // long: the release must come from the service
        Service c("org.freedesktop.login1", "/org/freedesktop/login1", &manager);
        auto m = monitor();
        ContributorConfig config(dir_.filePath("sleep.ini"));
        QVERIFY(config.set(ConfigKey::CoordinatorUrl, "wss://127.0.0.1:9"));  // nobody answers: the worker retries
        QVERIFY(config.set(ConfigKey::ContributorToken, "token"));
        QVERIFY(config.set(ConfigKey::ComputeWhen, "always"));
        ContributionService service(config, *m);
        service.setCacheDir(dir_.filePath("sleep-cache"));
        service.setKnownHostsPath(dir_.filePath("sleep-known-hosts"));
        connect(m.get(), &DesktopMonitor::changed, &service, &ContributionService::reevaluate);
        m->start(100000);
        service.start();
        QVERIFY(service.workerRunning());
        QVERIFY(QTest::qWaitFor([&] { return manager.locksHeld() == 1; }, 5000));
        emit manager.PrepareForSleep(true);
        QVERIFY(QTest::qWaitFor([&] { return manager.locksHeld() == 0; }, 5000));
        QVERIFY(!service.workerRunning());
        QCOMPARE(service.statusSentence(), QStringLiteral("paused: the computer is going to sleep (work handed back)"));
        emit manager.PrepareForSleep(false);
        QVERIFY(QTest::qWaitFor([&] { return manager.locksHeld() == 1 && service.workerRunning(); }, 5000));
    }

    void batteryFromUPowerThenSysfs() {
        const QString power = dir_.filePath("power_supply");
        writeFile(power + "/AC/type", "Mains\n");
        writeFile(power + "/AC/online", "1\n");
        writeFile(power + "/BAT0/type", "Battery\n");
        writeFile(power + "/BAT0/status", "Charging\n");
        auto m = monitor(power);
        {
            FakeUPower upower;
            upower.onBattery = true;
            Service u("org.freedesktop.UPower", "/org/freedesktop/UPower", &upower);
            poll(*m);
            QCOMPARE(m->onBattery(), std::optional<bool>(true));  // UPower first: it says battery
            QCOMPARE(m->powerSource(), QStringLiteral("UPower"));
            upower.onBattery = false;
            poll(*m);
            QCOMPARE(m->onBattery(), std::optional<bool>(false));
        }
        poll(*m);  // UPower gone: the folder (mains online)
        QCOMPARE(m->onBattery(), std::optional<bool>(false));
        QCOMPARE(m->powerSource(), QStringLiteral("sysfs"));
        writeFile(power + "/AC/online", "0\n");
        poll(*m);
        QCOMPARE(m->onBattery(), std::optional<bool>(true));
    }

    void sysfsReadings() {
        const QString base = dir_.filePath("sysfs");
        QCOMPARE(DesktopMonitor::onBatteryFromSysfs(base + "/none"), std::nullopt);  // a desktop: no supplies
        writeFile(base + "/laptop/BAT1/type", "Battery\n");
        writeFile(base + "/laptop/BAT1/status", "Discharging\n");
        QCOMPARE(DesktopMonitor::onBatteryFromSysfs(base + "/laptop"), std::optional<bool>(true));
        writeFile(base + "/laptop/BAT1/status", "Full\n");
        QCOMPARE(DesktopMonitor::onBatteryFromSysfs(base + "/laptop"), std::optional<bool>(false));
    }

    void exclusivePrograms() {
        const QString proc = dir_.filePath("proc");
        writeFile(proc + "/101/comm", "bash\n");
        writeFile(proc + "/202/comm", "blender\n");
        writeFile(proc + "/self/comm", "steam\n");  // not a pid: ignored
        QCOMPARE(DesktopMonitor::runningProgram(proc, {"steam", "blender"}), QStringLiteral("blender"));
        QCOMPARE(DesktopMonitor::runningProgram(proc, {"steam"}), QString());
        QCOMPARE(DesktopMonitor::runningProgram(proc, {}), QString());
        auto m = monitor();
        m->setProcDir(proc);
        m->setExclusivePrograms({"blender"});
        poll(*m);
        QCOMPARE(m->exclusiveProgram(), QStringLiteral("blender"));
        // And in the real /proc: this test's own process.
        QFile self("/proc/self/comm");
        QVERIFY(self.open(QIODevice::ReadOnly));
        const QString me = QString::fromUtf8(self.readAll()).trimmed();
        QCOMPARE(DesktopMonitor::runningProgram("/proc", {me}), me);
    }
};

// Runs the tests on a private session bus: under dbus-run-session when not already there.
int main(int argc, char** argv) {
    if (!qEnvironmentVariableIsSet("RAVEN_PRIVATE_BUS")) {
        QCoreApplication app(argc, argv);
        QStringList args{QStringLiteral("--"), QCoreApplication::applicationFilePath()};
        for (int i = 1; i < argc; ++i) args << QString::fromLocal8Bit(argv[i]);
        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("RAVEN_PRIVATE_BUS", "1");
        child.setProcessEnvironment(env);
        child.setProcessChannelMode(QProcess::ForwardedChannels);
        child.start(QStringLiteral("dbus-run-session"), args);
        if (!child.waitForStarted()) {
            std::fprintf(stderr, "FAIL: dbus-run-session is missing (apt-get install dbus)\n");
            return 1;
        }
        child.waitForFinished(-1);
        return child.exitStatus() == QProcess::NormalExit ? child.exitCode() : 1;
    }
    QCoreApplication app(argc, argv);
    TestDesktopMonitor test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_DesktopMonitor.moc"
