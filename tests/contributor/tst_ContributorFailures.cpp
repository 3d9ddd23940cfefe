// The daily transfer cap, counted per local day across restarts. And bad conditions the app meets while computing: a
// GPU lost in the middle of a unit makes the app compute on the CPU, say so in the status and in a notification; a unit
// that merely fails is logged as handed back, without a notification. A device loss cannot be caused on purpose on
// lavapipe, so the worker's computeFailed signal is sent with the very message core/vulkan's check()
// raises for VK_ERROR_DEVICE_LOST; everything after it (the worker stopped, a CPU worker started, the
// sentence) is the app's real reaction.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "ComputeDevices.h"
#include "ContributionService.h"
#include "ContributorConfig.h"
#include "DesktopMonitor.h"
#include "QuietDesktop.h"
#include "base/Error.h"
#include "vulkan/Check.h"

using namespace raven;
using namespace raven::contributor;

class TestContributorFailures : public QObject {
    Q_OBJECT

private slots:
    void dailyTransferCapPausesUntilMidnight() {
        QTemporaryDir dir;
        ContributorConfig config(dir.filePath("contributor.ini"));
        QVERIFY(config.set(ConfigKey::CoordinatorUrl, "wss://127.0.0.1:9"));
        QVERIFY(config.set(ConfigKey::ContributorToken, "token"));
        QVERIFY(config.set(ConfigKey::ComputeWhen, "always"));
        QVERIFY(config.set(ConfigKey::DailyTransferMegabytes, 2000));
        QString why;
        QVERIFY(!config.set(ConfigKey::TransferToday, "yesterday lots", &why));
        const QString today = QDate::currentDate().toString(Qt::ISODate);
        // Yesterday's bytes do not count today.
        QVERIFY(config.set(ConfigKey::TransferToday,
                           QDate::currentDate().addDays(-1).toString(Qt::ISODate) + " 5000000000"));
        const auto desktop = quietDesktop();
        ContributionService service(config, *desktop);
        service.setCacheDir(dir.filePath("cache"));
        service.setKnownHostsPath(dir.filePath("known_hosts"));
        service.start();
        QCOMPARE(service.transferredToday(), 0);
        QCOMPARE(service.decision().state, PolicyDecision::State::Computing);
        QCOMPARE(service.stateName(), QStringLiteral("waiting"));  // allowed, but no unit in hand
        // Today's, as a restart finds them in the settings: over the cap.
        QVERIFY(config.set(ConfigKey::TransferToday, today + " 2000000001"));
        QTRY_COMPARE(service.statusSentence(),
                     QStringLiteral("paused: daily transfer cap reached (2.0 GB), resumes at midnight"));
        QCOMPARE(service.decision().recheckAt, QDateTime(QDate::currentDate().addDays(1), QTime(0, 0)));
        QTRY_VERIFY(!service.workerRunning());
        // A larger cap applies at once.
        QVERIFY(config.set(ConfigKey::DailyTransferMegabytes, 3000));
        QCOMPARE(service.decision().state, PolicyDecision::State::Computing);
        QCOMPARE(service.stateName(), QStringLiteral("waiting"));  // allowed, but no unit in hand
    }

    // A full disk under the cache: a notification and a log line that say what it costs and what to do.
    // /proc is a real file system with no space available, as a full disk reports.
    void fullDiskIsSaid() {
        QTemporaryDir dir;
        ContributorConfig config(dir.filePath("contributor.ini"));
        QVERIFY(config.set(ConfigKey::CoordinatorUrl, "wss://127.0.0.1:9"));
        QVERIFY(config.set(ConfigKey::ContributorToken, "token"));
        QVERIFY(config.set(ConfigKey::ComputeWhen, "always"));
        const auto desktop = quietDesktop();
        ContributionService service(config, *desktop);
        service.setCacheDir("/proc/raven-contributor-cache");
        service.setKnownHostsPath(dir.filePath("known_hosts"));
        QStringList log;
        connect(&service, &ContributionService::logLine, this, [&](const QString& line) { log << line; });
        QSignalSpy notices(&service, &ContributionService::noticeRaised);
        service.start();
        QVERIFY2(service.diskProblem().contains("is full (0 bytes free)"), qPrintable(service.diskProblem()));
        QCOMPARE(notices.count(), 1);
        QCOMPARE(notices.first().at(0).toString(), QStringLiteral("Raven Contributor: disk full"));
        QVERIFY(log.join('\n').contains("free some space or lower Disk cache"));
        // Said once, not at every check.
        service.reevaluate();
        QCOMPARE(notices.count(), 1);
        // Room again: the problem goes away.
        service.setCacheDir(dir.filePath("cache"));
        service.reevaluate();
        QVERIFY(service.diskProblem().isEmpty());
    }

    void lostGpuFallsBackToTheCpu() {
        QString lavapipe;
        for (const ComputeDevice& device : listComputeDevices())
            if (device.name.contains("llvmpipe")) lavapipe = device.id;
        QVERIFY2(!lavapipe.isEmpty(), "no lavapipe: the vulkan label's environment selects it");
        QTemporaryDir dir;
        ContributorConfig config(dir.filePath("contributor.ini"));
        QVERIFY(config.set(ConfigKey::CoordinatorUrl, "wss://127.0.0.1:9"));  // nobody answers; enough here
        QVERIFY(config.set(ConfigKey::ContributorToken, "token"));
        QVERIFY(config.set(ConfigKey::ComputeWhen, "always"));
        QVERIFY(config.set(ConfigKey::Devices, lavapipe));
        const auto desktop = quietDesktop();
        ContributionService service(config, *desktop);
        service.setCacheDir(dir.filePath("cache"));
        service.setKnownHostsPath(dir.filePath("known_hosts"));
        QStringList log;
        connect(&service, &ContributionService::logLine, this, [&](const QString& line) { log << line; });
        QSignalSpy notices(&service, &ContributionService::noticeRaised);
        QSignalSpy problems(&service, &ContributionService::problemRaised);
        service.start();
        QVERIFY(service.workerRunning());
        QVERIFY2(log.join('\n').contains("on vulkan:"), qPrintable(log.join('\n')));

        // A unit that fails for its own reasons: logged, handed back, no notification.
        emit service.worker()->computeFailed("17", "work unit 17 asks for 2 local steps");
        QVERIFY2(log.last().contains("work unit 17 could not be computed") && log.last().contains("handed back"),
                 qPrintable(log.last()));
        QCOMPARE(notices.count(), 0);
        QVERIFY(service.lostDevice().isEmpty());

        QString lost;
        try {
            vulkan::check(VK_ERROR_DEVICE_LOST, "vkQueueSubmit");
        } catch (const Error& e) {
            lost = QString::fromUtf8(e.what());
        }
        QVERIFY(lost.contains("VK_ERROR_DEVICE_LOST"));
        worker::Worker* gpuWorker = service.worker();
        emit gpuWorker->computeFailed("18", lost);
        QCOMPARE(notices.count(), 1);
        QVERIFY2(notices.first().at(1).toString().contains("computes on the CPU now"),
                 qPrintable(notices.first().at(1).toString()));
        QCOMPARE(problems.count(), 0);  // not an error state: it goes on computing
        QCOMPARE(service.lostDevice(), lavapipe);
        // The GPU worker stops; a CPU worker takes over.
        QVERIFY2(QTest::qWaitFor([&] { return log.join('\n').contains("starting: computing on cpu"); }, 10000),
                 qPrintable(log.join('\n')));
        QVERIFY(service.workerRunning());
        QVERIFY2(service.statusSentence().contains("on the CPU: the GPU was lost"),
                 qPrintable(service.statusSentence()));
        QCOMPARE(service.decision().state, PolicyDecision::State::Computing);
        QCOMPARE(service.stateName(), QStringLiteral("waiting"));  // allowed, but no unit in hand
        // Choosing the devices again gives the GPU another chance.
        QVERIFY(config.set(ConfigKey::Devices, lavapipe + ",cpu"));
        QVERIFY(service.lostDevice().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestContributorFailures)
#include "tst_ContributorFailures.moc"
