#include "DesktopMonitor.h"

#include "SysfsLine.h"

#include <QDBusArgument>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusVariant>
#include <QDateTime>
#include <QDir>
#include <QFile>

#include <algorithm>
#include <functional>

#include "X11Idle.h"

namespace raven::contributor {

namespace {

constexpr int kCallTimeoutMs = 800;
const QString kLogind = QStringLiteral("org.freedesktop.login1");
const QString kLogindPath = QStringLiteral("/org/freedesktop/login1");
const QString kSessionPath = QStringLiteral("/org/freedesktop/login1/session/auto");
const QString kSessionInterface = QStringLiteral("org.freedesktop.login1.Session");

// Sends `message` without blocking; `done` gets the reply (or the error message) on this thread.
void ask(QDBusConnection& bus, const QDBusMessage& message, QObject* context,
         std::function<void(const QDBusMessage&)> done) {
    auto* watcher = new QDBusPendingCallWatcher(bus.asyncCall(message, kCallTimeoutMs), context);
    QObject::connect(watcher, &QDBusPendingCallWatcher::finished, context,
                     [watcher, done = std::move(done)](QDBusPendingCallWatcher*) {
                         watcher->deleteLater();
                         done(watcher->reply());
                     });
}

QDBusMessage propertyGet(const QString& service, const QString& path, const QString& interface, const QString& name) {
    QDBusMessage m = QDBusMessage::createMethodCall(service, path, QStringLiteral("org.freedesktop.DBus.Properties"),
                                                    QStringLiteral("Get"));
    m << interface << name;
    return m;
}

// A Properties.Get reply's value (invalid on an error).
QVariant propertyValue(const QDBusMessage& reply) {
    if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().isEmpty()) return {};
    return reply.arguments().first().value<QDBusVariant>().variant();
}

}  // namespace

DesktopMonitor::DesktopMonitor(QObject* parent)
    : DesktopMonitor(QDBusConnection::sessionBus(), QDBusConnection::systemBus(), parent) {}

DesktopMonitor::DesktopMonitor(const QDBusConnection& session, const QDBusConnection& system, QObject* parent)
    : QObject(parent), session_(session), system_(system), x11_(std::make_unique<X11Idle>()) {
    connect(&poll_, &QTimer::timeout, this, &DesktopMonitor::pollNow);
    sleepDeadline_.setSingleShot(true);
    connect(&sleepDeadline_, &QTimer::timeout, this, &DesktopMonitor::readyForSleep);
    if (system_.isConnected())
        system_.connect(kLogind, kLogindPath, QStringLiteral("org.freedesktop.login1.Manager"),
                        QStringLiteral("PrepareForSleep"), this, SLOT(onPrepareForSleep(bool)));
}

DesktopMonitor::~DesktopMonitor() = default;

void DesktopMonitor::setX11Display(const QString& display) { x11_ = std::make_unique<X11Idle>(display); }

void DesktopMonitor::setExclusivePrograms(const QStringList& names) {
    exclusiveNames_ = names;
    pollNow();
}

void DesktopMonitor::start(int pollMs) {
    poll_.start(pollMs);
    takeSleepLock();
    pollNow();
}

void DesktopMonitor::pollNow() {
    if (outstanding_ > 0) return;  // the last poll's answers are still coming
    outstanding_ = 3;
    askMutter();
    askLocked();
    askPower();
    const QString running = runningProgram(procDir_, exclusiveNames_);
    const QString fullScreen = x11_->fullScreenWindow();
    if (running != exclusive_ || fullScreen != fullScreen_) {
        exclusive_ = running;
        fullScreen_ = fullScreen;
        emit changed();
    }
}

void DesktopMonitor::finishOne() {
    if (--outstanding_ == 0) emit polled();
}

void DesktopMonitor::askMutter() {
    if (!session_.isConnected()) return askX11();
    ask(session_,
        QDBusMessage::createMethodCall(QStringLiteral("org.gnome.Mutter.IdleMonitor"),
                                       QStringLiteral("/org/gnome/Mutter/IdleMonitor/Core"),
                                       QStringLiteral("org.gnome.Mutter.IdleMonitor"), QStringLiteral("GetIdletime")),
        this, [this](const QDBusMessage& reply) {
            if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().isEmpty()) return askScreenSaver();
            setIdle(IdleReading{reply.arguments().first().toLongLong(), QStringLiteral("Mutter")});
            finishOne();
        });
}

void DesktopMonitor::askScreenSaver() {
    ask(session_,
        QDBusMessage::createMethodCall(
            QStringLiteral("org.freedesktop.ScreenSaver"), QStringLiteral("/org/freedesktop/ScreenSaver"),
            QStringLiteral("org.freedesktop.ScreenSaver"), QStringLiteral("GetSessionIdleTime")),
        this, [this](const QDBusMessage& reply) {
            if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().isEmpty()) return askX11();
            setIdle(IdleReading{reply.arguments().first().toLongLong(), QStringLiteral("ScreenSaver")});
            finishOne();
        });
}

void DesktopMonitor::askX11() {
    if (const auto ms = x11_->idleMs()) {
        setIdle(IdleReading{*ms, QStringLiteral("X11")});
        return finishOne();
    }
    askLogindIdle();
}

void DesktopMonitor::askLogindIdle() {
    if (!system_.isConnected()) {
        setIdle(std::nullopt);
        return finishOne();
    }
    ask(system_, propertyGet(kLogind, kSessionPath, kSessionInterface, QStringLiteral("IdleHint")), this,
        [this](const QDBusMessage& reply) {
            const QVariant hint = propertyValue(reply);
            if (!hint.isValid()) {
                setIdle(std::nullopt);
                return finishOne();
            }
            if (!hint.toBool()) {
                setIdle(IdleReading{0, QStringLiteral("logind")});
                return finishOne();
            }
            ask(system_, propertyGet(kLogind, kSessionPath, kSessionInterface, QStringLiteral("IdleSinceHint")), this,
                [this](const QDBusMessage& since) {
                    const QVariant usec = propertyValue(since);
                    const qint64 nowMs = QDateTime::currentMSecsSinceEpoch();
                    // IdleHint without a time: idle "now", counted from this moment on.
                    const qint64 idleMs = usec.isValid() && usec.toULongLong() > 0
                                              ? std::max<qint64>(0, nowMs - qint64(usec.toULongLong() / 1000))
                                              : 0;
                    setIdle(IdleReading{idleMs, QStringLiteral("logind")});
                    finishOne();
                });
        });
}

void DesktopMonitor::askLocked() {
    // Two answers make one reading: locked when either says so.
    auto pending = std::make_shared<int>(2);
    auto done = [this, pending] {
        if (--*pending > 0) return;
        setLocked(lockedByLogind_ || lockedByScreenSaver_);
        finishOne();
    };
    if (system_.isConnected()) {
        ask(system_, propertyGet(kLogind, kSessionPath, kSessionInterface, QStringLiteral("LockedHint")), this,
            [this, done](const QDBusMessage& reply) {
                lockedByLogind_ = propertyValue(reply).toBool();
                done();
            });
    } else {
        lockedByLogind_ = false;
        done();
    }
    if (session_.isConnected()) {
        ask(session_,
            QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.ScreenSaver"),
                                           QStringLiteral("/org/freedesktop/ScreenSaver"),
                                           QStringLiteral("org.freedesktop.ScreenSaver"), QStringLiteral("GetActive")),
            this, [this, done](const QDBusMessage& reply) {
                lockedByScreenSaver_ = reply.type() == QDBusMessage::ReplyMessage && !reply.arguments().isEmpty() &&
                                       reply.arguments().first().toBool();
                done();
            });
    } else {
        lockedByScreenSaver_ = false;
        done();
    }
}

void DesktopMonitor::askPower() {
    auto fallback = [this] {
        const auto battery = onBatteryFromSysfs(powerSupplyDir_);
        setBattery(battery, battery ? QStringLiteral("sysfs") : QString());
        finishOne();
    };
    if (!system_.isConnected()) return fallback();
    ask(system_,
        propertyGet(QStringLiteral("org.freedesktop.UPower"), QStringLiteral("/org/freedesktop/UPower"),
                    QStringLiteral("org.freedesktop.UPower"), QStringLiteral("OnBattery")),
        this, [this, fallback](const QDBusMessage& reply) {
            const QVariant v = propertyValue(reply);
            if (!v.isValid()) return fallback();
            setBattery(v.toBool(), QStringLiteral("UPower"));
            finishOne();
        });
}

void DesktopMonitor::onPrepareForSleep(bool start) {
    if (sleeping_ == start) return;
    sleeping_ = start;
    if (start)
        // logind suspends after its delay whatever we do: let go a little before, having done our best.
        sleepDeadline_.start(std::max(200, inhibitDelayMs_ - 500));
    else
        takeSleepLock();
    emit changed();
}

void DesktopMonitor::takeSleepLock() {
    if (!system_.isConnected() || sleepLock_.isValid() || takingSleepLock_) return;
    takingSleepLock_ = true;
    QDBusMessage inhibit = QDBusMessage::createMethodCall(
        kLogind, kLogindPath, QStringLiteral("org.freedesktop.login1.Manager"), QStringLiteral("Inhibit"));
    inhibit << QStringLiteral("sleep") << QStringLiteral("Raven Contributor")
            << QStringLiteral("hands the work in hand back to the coordinator before the computer sleeps")
            << QStringLiteral("delay");
    ask(system_, inhibit, this, [this](const QDBusMessage& reply) {
        takingSleepLock_ = false;
        if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().isEmpty()) return;  // no logind
        // Taken while already going to sleep (a late reply): it would only hold the suspend up.
        const QDBusUnixFileDescriptor fd = qdbus_cast<QDBusUnixFileDescriptor>(reply.arguments().first());
        if (!fd.isValid() || sleeping_) return;
        sleepLock_ = fd;
        emit sleepLockChanged(true);
    });
    ask(system_,
        propertyGet(kLogind, kLogindPath, QStringLiteral("org.freedesktop.login1.Manager"),
                    QStringLiteral("InhibitDelayMaxUSec")),
        this, [this](const QDBusMessage& reply) {
            if (const QVariant v = propertyValue(reply); v.isValid() && v.toULongLong() > 0)
                inhibitDelayMs_ = static_cast<int>(std::min<qulonglong>(v.toULongLong() / 1000, 600000));
        });
}

void DesktopMonitor::readyForSleep() {
    sleepDeadline_.stop();
    if (!sleepLock_.isValid()) return;
    sleepLock_ = QDBusUnixFileDescriptor();  // closes our descriptor: logind goes ahead
    emit sleepLockChanged(false);
}

void DesktopMonitor::setIdle(std::optional<IdleReading> reading) {
    const bool same = idle_.has_value() == reading.has_value() &&
                      (!reading || (idle_->idleMs == reading->idleMs && idle_->source == reading->source));
    idle_ = std::move(reading);
    if (!same) emit changed();
}

void DesktopMonitor::setLocked(bool locked) {
    if (locked_ == locked) return;
    locked_ = locked;
    emit changed();
}

void DesktopMonitor::setBattery(std::optional<bool> battery, const QString& source) {
    if (onBattery_ == battery && powerSource_ == source) return;
    onBattery_ = battery;
    powerSource_ = source;
    emit changed();
}

void DesktopMonitor::fill(PolicyInputs& in) const {
    in.idle = idle_;
    in.screenLocked = locked_;
    in.preparingForSleep = sleeping_;
    in.onBattery = onBattery_;
    in.exclusiveProgram = exclusive_;
    in.fullScreenWindow = fullScreen_;
}

std::optional<bool> DesktopMonitor::onBatteryFromSysfs(const QString& dir) {
    bool anyMains = false, mainsOnline = false, anyBattery = false, discharging = false;
    for (const QString& name : QDir(dir).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QString type = readSysfsLine(dir + "/" + name + "/type");
        if (type == QLatin1String("Mains")) {
            anyMains = true;
            mainsOnline = mainsOnline || readSysfsLine(dir + "/" + name + "/online") == QLatin1String("1");
        } else if (type == QLatin1String("Battery")) {
            anyBattery = true;
            discharging = discharging || readSysfsLine(dir + "/" + name + "/status") == QLatin1String("Discharging");
        }
    }
    if (anyMains) return !mainsOnline;
    if (anyBattery) return discharging;
    return std::nullopt;
}

QString DesktopMonitor::runningProgram(const QString& procDir, const QStringList& names) {
    if (names.isEmpty()) return {};
    for (const QString& pid : QDir(procDir).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        if (!pid.front().isDigit()) continue;
        const QString comm = readSysfsLine(procDir + "/" + pid + "/comm");
        for (const QString& n : names)
            if (!n.trimmed().isEmpty() && comm == n.trimmed()) return comm;
    }
    return {};
}

}  // namespace raven::contributor
