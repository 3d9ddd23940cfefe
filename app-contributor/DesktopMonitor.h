#pragma once
// DesktopMonitor: what the desktop says about the person and the machine, gathered for the policy.
//
//   DesktopMonitor desktop;                      // the session and system buses of this login
//   connect(&desktop, &DesktopMonitor::changed, &service, &ContributionService::reevaluate);
//   desktop.start();                             // polls once a second, listens for signals
//   desktop.fill(inputs);                        // idle, lock, sleep, battery, exclusive programs
//
// Idle time, layered (the first that answers wins, and its name goes into the status sentence):
//   1. GNOME: org.gnome.Mutter.IdleMonitor /org/gnome/Mutter/IdleMonitor/Core GetIdletime (ms)
//   2. KDE and others: org.freedesktop.ScreenSaver /org/freedesktop/ScreenSaver GetSessionIdleTime (ms)
//   3. X11 desktops: the X server's MIT-SCREEN-SAVER idle time (X11Idle.h)
//   4. logind (system bus): the session's IdleHint and IdleSinceHint (µs since the epoch)
// Screen locked: logind's LockedHint, or org.freedesktop.ScreenSaver GetActive.
// Sleep: logind's Manager.PrepareForSleep(true) until PrepareForSleep(false). From start() on, the
// monitor holds a logind *delay* inhibitor lock (Manager.Inhibit "sleep", mode "delay"): logind then
// waits, before suspending, until the lock is released (at most its InhibitDelayMaxUSec, 5 s by
// default). On PrepareForSleep(true) the service stops its worker (the units in hand go back to the
// coordinator) and calls readyForSleep(), which releases the lock; the monitor releases it by itself
// shortly before logind's limit in any case. After the resume (PrepareForSleep(false)) it takes the
// lock again.
// Battery: UPower's OnBattery; without UPower, /sys/class/power_supply (on battery when a mains
// supply exists and none is online, or when a battery says "Discharging").
// Exclusive programs: a /proc/<pid>/comm equal to one of the names the person listed.
// Full-screen: on X11, the window manager's active window in _NET_WM_STATE_FULLSCREEN (X11Idle.h);
// Wayland compositors do not tell other programs, so there it stays unknown.
//
// Tests hand it the buses (a private session bus from dbus-run-session serves as both) and a
// power_supply folder of their own, and play Mutter, ScreenSaver, logind and UPower on it.
#include <QDBusConnection>
#include <QDBusUnixFileDescriptor>
#include <QObject>
#include <QStringList>
#include <QTimer>

#include <memory>
#include <optional>

#include "ComputePolicy.h"

namespace raven::contributor {

class X11Idle;

class DesktopMonitor : public QObject {
    Q_OBJECT
public:
    explicit DesktopMonitor(QObject* parent = nullptr);
    DesktopMonitor(const QDBusConnection& session, const QDBusConnection& system, QObject* parent = nullptr);
    ~DesktopMonitor() override;

    void setPowerSupplyDir(const QString& dir) { powerSupplyDir_ = dir; }  // default /sys/class/power_supply
    void setProcDir(const QString& dir) { procDir_ = dir; }                // default /proc
    void setExclusivePrograms(const QStringList& names);
    // The X display to ask for idle time ("" = $DISPLAY, "none" = none; tests use an Xvfb of their own).
    void setX11Display(const QString& display);
    void start(int pollMs = 1000);
    void pollNow();

    void fill(PolicyInputs& in) const;

    std::optional<IdleReading> idle() const { return idle_; }
    bool screenLocked() const { return locked_; }
    bool preparingForSleep() const { return sleeping_; }
    std::optional<bool> onBattery() const { return onBattery_; }
    QString exclusiveProgram() const { return exclusive_; }
    QString fullScreenWindow() const { return fullScreen_; }
    QString powerSource() const { return powerSource_; }  // "UPower", "sysfs" or empty
    // The logind delay lock (see above): held now; and "ready, let it sleep" (releases it).
    bool holdsSleepLock() const { return sleepLock_.isValid(); }
    void readyForSleep();

    // Reads a power_supply folder: on battery or not, nullopt when it has no supplies. Pure; tested alone.
    static std::optional<bool> onBatteryFromSysfs(const QString& dir);
    // The first of `names` that a process under procDir runs as (its comm), empty when none.
    static QString runningProgram(const QString& procDir, const QStringList& names);

signals:
    void changed();  // any reading changed
    void polled();   // a poll finished (every answer in), for tests
    void sleepLockChanged(bool held);

private slots:
    void onPrepareForSleep(bool start);

private:
    void askMutter();
    void askScreenSaver();
    void askX11();
    void askLogindIdle();
    void askLocked();
    void askPower();
    void setIdle(std::optional<IdleReading> reading);
    void setLocked(bool locked);
    void setBattery(std::optional<bool> battery, const QString& source);
    void finishOne();
    void takeSleepLock();

    QDBusConnection session_, system_;
    QTimer poll_;
    QString powerSupplyDir_ = QStringLiteral("/sys/class/power_supply");
    QString procDir_ = QStringLiteral("/proc");
    QStringList exclusiveNames_;
    std::unique_ptr<X11Idle> x11_;
    int outstanding_ = 0;
    bool lockedByLogind_ = false, lockedByScreenSaver_ = false;

    std::optional<IdleReading> idle_;
    bool locked_ = false;
    bool sleeping_ = false;
    std::optional<bool> onBattery_;
    QString powerSource_;
    QString exclusive_;
    QString fullScreen_;
    QDBusUnixFileDescriptor sleepLock_;  // the inhibitor's file descriptor: closing it releases the lock
    bool takingSleepLock_ = false;
    int inhibitDelayMs_ = 5000;  // logind's InhibitDelayMaxUSec, read when the lock is taken
    QTimer sleepDeadline_;       // releases the lock before logind stops waiting for it
};

}  // namespace raven::contributor
