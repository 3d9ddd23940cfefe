#include "ContributionService.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>
#include <QStorageInfo>
#include <QUrl>

#include "ComputeDevices.h"
#include "DesktopMonitor.h"

namespace raven::contributor {

ContributionService::ContributionService(ContributorConfig& config, DesktopMonitor& desktop, QObject* parent)
    : QObject(parent), config_(config), desktop_(desktop) {
    sensors_ = std::make_unique<TemperatureSensors>();
    heatTimer_.setInterval(5000);
    connect(&heatTimer_, &QTimer::timeout, this, &ContributionService::reevaluate);
    clock_.setSingleShot(true);
    connect(&clock_, &QTimer::timeout, this, &ContributionService::reevaluate);
    connect(&desktop_, &DesktopMonitor::changed, this, &ContributionService::reevaluate);
    connect(&config_, &ContributorConfig::changed, this, [this](ConfigKey key) {
        // Counted after each unit, from inside the worker's signal: decide once that has returned.
        if (key == ConfigKey::TransferToday)
            return void(QMetaObject::invokeMethod(this, &ContributionService::reevaluate, Qt::QueuedConnection));
        if (key == ConfigKey::ExclusivePrograms)
            desktop_.setExclusivePrograms(
                config_.get(ConfigKey::ExclusivePrograms).toString().split(QLatin1Char(','), Qt::SkipEmptyParts));
        // The coordinator, token, name or device changed: the running worker speaks for the old one.
        if (key == ConfigKey::CoordinatorUrl || key == ConfigKey::ContributorToken || key == ConfigKey::MachineName ||
            key == ConfigKey::Devices || key == ConfigKey::CacheMegabytes || key == ConfigKey::CpuMemoryMegabytes) {
            stopWorker();
            problem_.clear();  // a refusal was for the old settings
        }
        if (key == ConfigKey::Devices) {
            heatSource_.reset();
            lostDevice_.clear();  // the person chose again
        }
        reevaluate();
    });
    cacheDir_ = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    knownHostsPath_ = QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath("known_hosts");
}

ContributionService::~ContributionService() {
    // Without a clean shutdown() the worker is simply dropped: its leases expire at the coordinator.
    if (worker_) worker_->disconnect(this);
    if (stopping_) stopping_->disconnect(this);
}

void ContributionService::start() {
    started_ = true;
    heatTimer_.start();
    desktop_.setExclusivePrograms(
        config_.get(ConfigKey::ExclusivePrograms).toString().split(QLatin1Char(','), Qt::SkipEmptyParts));
    reevaluate();
}

void ContributionService::pause() {
    config_.set(ConfigKey::PausedByUser, true);
    emit logLine(QStringLiteral("paused by you"));
}

void ContributionService::resume() {
    config_.set(ConfigKey::SnoozedUntil, QString());
    config_.set(ConfigKey::PausedByUser, false);
    emit logLine(QStringLiteral("resumed by you"));
}

void ContributionService::snooze(const QDateTime& until) {
    config_.set(ConfigKey::SnoozedUntil, until.toString(Qt::ISODateWithMs));
    emit logLine(QStringLiteral("snoozed until %1").arg(until.toString(QStringLiteral("ddd HH:mm"))));
}

void ContributionService::shutdown() {
    shuttingDown_ = true;
    clock_.stop();
    heatTimer_.stop();
    stopWorker();
    if (!stopping_) emit shutDownComplete();
}

void ContributionService::clearProblem() {
    if (problem_.isEmpty()) return;
    problem_.clear();
    emit decisionChanged();
    reevaluate();
}

QString ContributionService::stateName() const {
    if (!problem_.isEmpty()) return QStringLiteral("error");
    // Allowed to compute but with no unit in hand (connecting, the coordinator out of reach or out
    // of work): the tray shows the clock, not the play sign of work that does not run.
    if (decision_.computing() && !unitInHand()) return QStringLiteral("waiting");
    return ComputePolicy::stateName(decision_.state);
}

bool ContributionService::unitInHand() const {
    if (!currentUnit_.isEmpty()) return true;
    // Between two units of a job (which stays named) for up to 5 s, so that the state does not
    // blink with each unit; a worker quiet for longer has none in hand.
    return worker_ && worker_->isRegistered() && !currentJob_.isEmpty() && idleSince_.isValid() &&
           idleSince_.elapsed() < 5000;
}

bool ContributionService::coordinatorUnreachable() const {
    // Sticky across the worker's attempts (reconnecting -> connecting -> reconnecting ...), so the
    // status does not flicker between "connecting" and "cannot reach" with each try.
    return worker_ && lostContact_ && !worker_->isRegistered();
}

QString ContributionService::statusSentence() const {
    if (!problem_.isEmpty()) return QStringLiteral("stopped: ") + problem_;
    if (!decision_.computing()) return decision_.reason;
    const QString onCpu = (lostDevice_.isEmpty() ? QString() : QStringLiteral(" — on the CPU: the GPU was lost")) +
                          (diskProblem_.isEmpty() ? QString() : QStringLiteral(" — disk full"));
    // Allowed to compute; say what that amounts to right now, in the words of stateName(): computing
    // with a unit in hand, else waiting.
    const QString where = QUrl(config_.get(ConfigKey::CoordinatorUrl).toString()).authority();
    if (unitInHand()) {
        if (coordinatorUnreachable())
            return decision_.reason +
                   QStringLiteral(" — job %1; cannot reach the coordinator at %2, trying again by itself")
                       .arg(currentJob_, where) +
                   onCpu;
        return decision_.reason + QStringLiteral(" — job %1").arg(currentJob_) + onCpu;
    }
    if (coordinatorUnreachable())
        return QStringLiteral("waiting: cannot reach the coordinator at %1; trying again by itself").arg(where) + onCpu;
    if (!worker_ || !worker_->isRegistered()) return QStringLiteral("waiting: connecting to the coordinator") + onCpu;
    // A unit handed back under the memory cap in the last minute says why nothing computes.
    if (!lastRefusal_.isEmpty() && refusedSince_.isValid() && refusedSince_.elapsed() < 60000)
        return QStringLiteral("waiting: ") + lastRefusal_ + onCpu;
    // For a minute after a lost connection came back, the status says so.
    if (reconnectedAt_.isValid() && reconnectedAt_.secsTo(QDateTime::currentDateTime()) < 60)
        return QStringLiteral("waiting: coordinator back at %1; no work right now")
                   .arg(reconnectedAt_.toString(QStringLiteral("HH:mm:ss"))) +
               onCpu;
    return QStringLiteral("waiting: no work from the coordinator right now") + onCpu;
}

double ContributionService::busyShare() const {
    // Measured by the worker's duty cycle itself: computation only, not its rests inside a unit.
    return worker_ ? worker_->busyShare() : -1.0;
}

void ContributionService::reevaluate() {
    if (shuttingDown_ || !started_) return;
    PolicyInputs in;
    in.now = QDateTime::currentDateTime();
    in.configured = config_.isSetUp();
    in.pausedByUser = config_.get(ConfigKey::PausedByUser).toBool();
    in.snoozedUntil = QDateTime::fromString(config_.get(ConfigKey::SnoozedUntil).toString(), Qt::ISODate);
    desktop_.fill(in);
    in.transferredTodayBytes = transferredToday();
    checkDisk();
    readTemperature();
    in.deviceCelsius = temperature_.celsius;
    in.heatDevice = heatDevice();
    in.coolingDown = decision_.heatPause;
    const PolicyDecision next = ComputePolicy::decide(in, config_.policyLimits());
    const bool changed = next.state != decision_.state || next.reason != decision_.reason ||
                         next.gpuPercent != decision_.gpuPercent || next.cpuThreads != decision_.cpuThreads;
    const bool stateChanged = next.state != decision_.state;
    decision_ = next;
    if (stateChanged) emit logLine(decision_.reason);
    if (decision_.recheckAt.isValid())
        clock_.start(static_cast<int>(std::clamp<qint64>(in.now.msecsTo(decision_.recheckAt), 200, 3600000)));
    else
        clock_.stop();
    applyDecision();
    if (changed) emit decisionChanged();
}

void ContributionService::checkDisk() {
    // Below this the cache cannot take a unit's data: it is computed from memory and fetched again.
    constexpr qint64 kDiskLowBytes = 100LL * 1000 * 1000;
    QString dir = cacheDir_;
    while (!dir.isEmpty() && !QFileInfo::exists(dir) && QFileInfo(dir).dir().path() != dir)
        dir = QFileInfo(dir).dir().path();  // the folder may not exist yet: its disk is the parent's
    const QStorageInfo disk(dir);
    QString problem;
    if (disk.isValid() && disk.isReady() && disk.bytesAvailable() < kDiskLowBytes)
        problem = QStringLiteral(
                      "the disk holding the cache (%1) is full (%2 free): work units still compute, but "
                      "their data is downloaded again each time; free some space or lower Disk cache")
                      .arg(disk.rootPath(), ComputePolicy::bytes(std::max<qint64>(0, disk.bytesAvailable())));
    if (problem == diskProblem_) return;
    const bool wasFine = diskProblem_.isEmpty();
    diskProblem_ = problem;
    if (!problem.isEmpty()) {
        emit logLine(problem);
        if (wasFine) emit noticeRaised(QStringLiteral("Raven Contributor: disk full"), problem);
    } else {
        emit logLine(QStringLiteral("the disk holding the cache has room again"));
    }
}

QString ContributionService::heatDevice() const {
    return heatSource_ && heatSource_->vulkanIndex >= 0 && heatSource_->kind != QLatin1String("CPU (Vulkan)")
               ? QStringLiteral("GPU")
               : QStringLiteral("CPU");
}

void ContributionService::readTemperature() {
    if (!heatSource_) {
        const QString chosen = config_.get(ConfigKey::Devices).toString();
        // Vulkan is enumerated only when a GPU is chosen (it loads every driver).
        std::vector<ComputeDevice> devices;
        if (chosen.contains(QLatin1String("vulkan:"))) devices = listComputeDevices();
        const WorkerDevice pick = workerDeviceFor(chosen, devices);
        for (const ComputeDevice& d : devices)
            if (d.id == pick.id) heatSource_ = d;
        if (!heatSource_) {
            ComputeDevice cpu;
            cpu.id = cpu.name = cpu.kind = QStringLiteral("CPU");
            heatSource_ = cpu;
        }
    }
    const Temperature before = temperature_;
    temperature_ = sensors_->read(*heatSource_);
    if (!temperature_.celsius && temperature_.absence != before.absence)
        emit logLine(QStringLiteral("no temperature for %1: %2").arg(heatSource_->name, temperature_.absence));
}

void ContributionService::applyDecision() {
    if (!decision_.computing() || !problem_.isEmpty()) {
        stopWorker();
        readyForSleepIfStopped();
        return;
    }
    // Threads are fixed per worker, and matter only on the CPU (a GPU worker keeps computing).
    if (worker_ && runningDevice_ == QLatin1String("cpu") && decision_.cpuThreads != runningThreads_) stopWorker();
    if (stopping_) return;  // starts again once the old one has stopped
    if (!worker_) startWorker();
    // A new cap: the worker measures the busy share afresh, against it.
    if (worker_ && worker_->dutyCycle() != decision_.gpuPercent) worker_->setDutyCycle(decision_.gpuPercent);
}

worker::WorkerOptions ContributionService::workerOptions() const {
    worker::WorkerOptions o;
    o.coordinator = QUrl(config_.get(ConfigKey::CoordinatorUrl).toString());
    o.token = config_.get(ConfigKey::ContributorToken).toString();
    o.knownHostsPath = knownHostsPath_;
    o.cacheDir = cacheDir_;
    o.cacheBytes = qint64(config_.get(ConfigKey::CacheMegabytes).toInt()) << 20;
    o.threads = decision_.cpuThreads;
    o.maxConcurrentLeases = 4;  // the next units download while one computes
    o.displayName = config_.get(ConfigKey::MachineName).toString();
    return o;
}

void ContributionService::startWorker() {
    worker::WorkerOptions options = workerOptions();
    const QString chosen = config_.get(ConfigKey::Devices).toString();
    // Only look for Vulkan devices when one is chosen: enumeration loads every driver.
    const WorkerDevice device = !lostDevice_.isEmpty()
                                    ? WorkerDevice{QStringLiteral("cpu"), QStringLiteral("cpu"), QString()}
                                : chosen.contains(QLatin1String("vulkan:"))
                                    ? workerDeviceFor(chosen, listComputeDevices())
                                    : WorkerDevice{QStringLiteral("cpu"), QStringLiteral("cpu"), QString()};
    if (!device.note.isEmpty()) emit logLine(device.note);
    options.device = device.selector;
    // The memory cap is the CPU device's: a GPU's own memory bounds what it computes there.
    if (device.selector == QLatin1String("cpu"))
        options.maxUnitBytes = qint64(config_.get(ConfigKey::CpuMemoryMegabytes).toInt()) * 1000000;
    lastRefusal_.clear();
    runningThreads_ = decision_.cpuThreads;
    runningDevice_ = device.id;
    lastSeen_ = {};
    worker_ = std::make_unique<worker::Worker>(options);
    worker::Worker* w = worker_.get();
    lostContact_ = false;
    connect(w, &worker::Worker::statusMessage, this, &ContributionService::logLine);
    connect(w, &worker::Worker::phaseChanged, this, [this, w](worker::WorkerPhase, worker::WorkerPhase to) {
        if (to != worker::WorkerPhase::Reconnecting || lostContact_ || w != worker_.get()) return;
        lostContact_ = true;
        emit decisionChanged();  // the tray and the window say so now, not at the next tick
    });
    connect(w, &worker::Worker::connected, this, [this, w](const QString& id) {
        contributorId_ = id;
        deviceSummary_ = w->deviceSummary();
        if (lostContact_) {
            lostContact_ = false;
            reconnectedAt_ = QDateTime::currentDateTime();
            emit logLine(QStringLiteral("reached the coordinator again"));
            emit decisionChanged();
        }
        emit logLine(QStringLiteral("connected to %1 as contributor %2")
                         .arg(config_.get(ConfigKey::CoordinatorUrl).toString(), id));
        emit connectedChanged(true);
        emit workChanged();
    });
    connect(w, &worker::Worker::refused, this, [this](const QString& reason) {
        problem_ = reason;
        emit logLine(QStringLiteral("the coordinator refused this machine: %1").arg(reason));
        emit problemRaised(reason);
        emit decisionChanged();
    });
    connect(w, &worker::Worker::computeStarted, this, [this](const QString& unit, const QString& job) {
        currentUnit_ = unit;
        currentJob_ = job;
        jobOfUnit_.insert(unit, job);
        emit workChanged();
        emit decisionChanged();  // the sentence names the job
    });
    connect(w, &worker::Worker::computeEnded, this, [this](const QString&, double) {
        currentUnit_.clear();
        idleSince_.start();
        emit workChanged();
    });
    connect(w, &worker::Worker::computeFailed, this, &ContributionService::onComputeFailed);
    connect(w, &worker::Worker::unitRefused, this, [this](const QString& unit, const QString& why) {
        lastRefusal_ = QStringLiteral("work unit %1 handed back: it %2").arg(unit, why);
        refusedSince_.start();
        emit logLine(lastRefusal_);
        emit decisionChanged();
    });
    connect(w, &worker::Worker::unitFinished, this,
            [this, w](const QString& id, int status, qint64 samples, double seconds) {
                const qint64 credited = w->stats().microCredits - lastSeen_.microCredits;  // this unit's ResultAck
                accumulate(w->stats());
                emit unitFinished(id, jobOfUnit_.take(id), status, samples, seconds, credited);
                emit workChanged();
            });
    connect(w, &worker::Worker::stopped, this, [this, w] {
        // A worker stops by itself only after a refusal (it gave up); stopWorker() moved it otherwise.
        if (worker_.get() == w) {
            stopping_ = std::move(worker_);
            onWorkerStopped();
        }
    });
    emit logLine(QStringLiteral("starting: %1 on %2").arg(decision_.reason, device.selector));
    w->start();
}

qint64 ContributionService::transferredToday() const {
    const QStringList parts = config_.get(ConfigKey::TransferToday).toString().split(QLatin1Char(' '));
    if (parts.size() != 2 || QDate::fromString(parts[0], Qt::ISODate) != QDate::currentDate()) return 0;
    return parts[1].toLongLong();
}

void ContributionService::accumulate(const worker::Worker::Stats& now) {
    const qint64 moved = (now.bytesSent - lastSeen_.bytesSent) + (now.bytesReceived - lastSeen_.bytesReceived);
    if (moved > 0)
        config_.set(
            ConfigKey::TransferToday,
            QStringLiteral("%1 %2").arg(QDate::currentDate().toString(Qt::ISODate)).arg(transferredToday() + moved));
    totals_.unitsAccepted += now.unitsAccepted - lastSeen_.unitsAccepted;
    totals_.unitsRejected += now.unitsRejected - lastSeen_.unitsRejected;
    totals_.unitsDuplicate += now.unitsDuplicate - lastSeen_.unitsDuplicate;
    totals_.samples += now.samples - lastSeen_.samples;
    totals_.flops += now.flops - lastSeen_.flops;
    totals_.bytesSent += now.bytesSent - lastSeen_.bytesSent;
    totals_.bytesReceived += now.bytesReceived - lastSeen_.bytesReceived;
    totals_.microCredits += now.microCredits - lastSeen_.microCredits;
    lastSeen_ = now;
}

void ContributionService::onComputeFailed(const QString& unit, const QString& error) {
    emit logLine(QStringLiteral("work unit %1 could not be computed (%2); it was handed back to the coordinator")
                     .arg(unit, error.left(300)));
    // A lost device fails every unit after it: compute on the CPU instead, and say so.
    if (!error.contains(QLatin1String("VK_ERROR_DEVICE_LOST")) || runningDevice_ == QLatin1String("cpu")) return;
    lostDevice_ = runningDevice_;
    const QString text = QStringLiteral(
        "The GPU stopped working in the middle of a work unit (the driver reset it). "
        "Raven computes on the CPU now; choose the GPU again in Devices, or restart "
        "Raven, once the driver has recovered.");
    emit logLine(QStringLiteral("the GPU was lost (VK_ERROR_DEVICE_LOST): computing on the CPU"));
    emit noticeRaised(QStringLiteral("Raven Contributor: GPU lost"), text);
    stopWorker();  // applyDecision starts the CPU worker once this one has stopped
    emit decisionChanged();
}

void ContributionService::readyForSleepIfStopped() {
    // The units in hand are back with the coordinator (or computed and answered): logind may go on.
    if (desktop_.preparingForSleep() && !worker_ && !stopping_) {
        if (desktop_.holdsSleepLock()) emit logLine(QStringLiteral("work handed back: ready for sleep"));
        desktop_.readyForSleep();
    }
}

void ContributionService::stopWorker() {
    // One stop at a time: no worker starts while another is stopping (applyDecision waits for it).
    if (!worker_ || stopping_) return;
    stopping_ = std::move(worker_);
    worker::Worker* w = stopping_.get();
    disconnect(w, &worker::Worker::stopped, this, nullptr);
    connect(w, &worker::Worker::stopped, this, &ContributionService::onWorkerStopped);
    currentUnit_.clear();
    currentJob_.clear();
    w->stop();
}

void ContributionService::onWorkerStopped() {
    if (stopping_) accumulate(stopping_->stats());
    emit connectedChanged(false);
    emit workChanged();
    // The next worker starts only once this one is gone: it holds the cache folder's lock until its
    // destructor, and it is still inside its own stopped() now.
    QTimer::singleShot(0, this, [this] {
        stopping_.reset();
        readyForSleepIfStopped();
        if (shuttingDown_) {
            emit shutDownComplete();
            return;
        }
        applyDecision();
        emit decisionChanged();
    });
}

}  // namespace raven::contributor
