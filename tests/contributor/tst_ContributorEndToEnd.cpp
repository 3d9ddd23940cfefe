// End to end: the contributor app's engine (ContributorApp: settings, policy, the in-process Worker,
// the ledger's figures) joins a real coordinator on loopback through the invite that
// `raven-coordinator invite` prints, computes the units
// of a real job on the CPU until the job is done, and its dashboard shows exactly the credits and
// unit counts the coordinator's ledger holds. Then the coordinator goes away: the figures stay,
// marked offline, with the next try shown, and the headline says "waiting: cannot reach the
// coordinator ..., trying again by itself"; back at its address, the app reconnects and says so. And the bad
// conditions: a changed certificate and a revoked token stop the app with a sentence that says so (the state turns
// "error").
#include <QAction>
#include <QCheckBox>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <QUrl>

#include "ContributorApp.h"
#include "ContributorWindow.h"
#include "DashboardPage.h"
#include "Invite.h"
#include "QuietDesktop.h"
#include "SetupDialog.h"
#include "coordinator/CoordinatorTestKit.h"
#include "protocol/KnownHosts.h"

using namespace raven;
using namespace raven::contributor;

class TestContributorEndToEnd : public QObject {
    Q_OBJECT

    // An app joined to `d`'s coordinator through an invite with `token` (and `fingerprint`).
    std::unique_ptr<ContributorApp> joinedApp(test::Deployment& d, const QString& token,
                                              const QString& fingerprint = {}) {
        return joinedApp(d,
                         Invite{d.coordinator->url().host(), d.coordinator->url().port(),
                                fingerprint.isEmpty() ? d.coordinator->fingerprint() : fingerprint, token, QString()});
    }
    std::unique_ptr<ContributorApp> joinedApp(test::Deployment& d, const Invite& invite) {
        auto app = std::make_unique<ContributorApp>(d.dir.filePath("contributor.ini"), quietDesktop());
        app->setStateDir(d.dir.filePath("contributor-state"));
        QString why;
        if (!joinCoordinator(app->config(), app->service().knownHostsPath(), invite, "e2e-box", &why))
            qFatal("join: %s", qPrintable(why));
        app->config().set(ConfigKey::ComputeWhen, "always");
        app->config().set(ConfigKey::CpuThreads, 1);
        app->config().set(ConfigKey::CacheMegabytes, 64);
        app->ledger().setRefreshIntervalMs(1000);
        return app;
    }

private slots:
    void computesAndShowsTheLedgersCredits() {
        test::Deployment d;
        // Credits wait for verification: with a window longer than the test, every accepted unit's
        // credit stays pending (a fast-mode job is never replayed), shown beside the earned ones.
        d.options.creditWindow = ledger::CreditWindow{3600, 1000};
        d.start();
        auto requester = d.requester();
        const std::string job = d.submitJob(*requester, test::adamHyperparameters(1));
        // The operator's invite, made by `raven-coordinator invite` beside the running coordinator.
        QProcess operatorCli;
        operatorCli.start(
            qEnvironmentVariable("RAVEN_BINARY_DIR") + "/app-coordinator/raven-coordinator",
            {"invite", "e2e-box", "--host", QStringLiteral("127.0.0.1:%1").arg(d.coordinator->url().port()),
             "--data-dir", d.options.dataDir});
        QVERIFY(operatorCli.waitForFinished(30000));
        QCOMPARE(operatorCli.exitCode(), 0);
        const QString line = QString::fromUtf8(operatorCli.readAllStandardOutput()).trimmed();
        QString why;
        const auto invite = Invite::parse(line, &why);
        QVERIFY2(invite, qPrintable(why + ": " + line));
        QCOMPARE(invite->fingerprint, d.coordinator->fingerprint());
        QCOMPARE(invite->name, QStringLiteral("e2e-box"));
        auto app = joinedApp(d, *invite);
        ContributorWindow window(*app);
        window.show();
        app->start(100000);
        // Allowed to compute, still connecting: the clock, not the play sign, until a unit is in hand.
        QCOMPARE(app->service().stateName(), QStringLiteral("waiting"));
        QCOMPARE(app->service().statusSentence(), QStringLiteral("waiting: connecting to the coordinator"));
        QTRY_COMPARE_WITH_TIMEOUT(app->service().stateName(), QStringLiteral("computing"), 30000);
        auto* headline = window.findChild<QLabel*>("statusLine");
        QTRY_VERIFY(headline->text().startsWith("computing — job "));

        // 11 shards, one unit each, one epoch: the job ends when all are accepted.
        QVERIFY2(QTest::qWaitFor([&] { return app->service().sessionStats().unitsAccepted >= 11; }, 60000),
                 qPrintable(app->log().lines().join("\n")));
        QCOMPARE(app->recentUnits().rowCount(), 11);
        // Shards, weights and results moved today, counted for the daily transfer cap.
        QVERIFY(app->service().transferredToday() >= app->service().sessionStats().bytesSent);
        QVERIFY(app->service().sessionStats().bytesSent > 0);
        QCOMPARE(app->recentUnits().index(0, RecentUnitsModel::Outcome).data().toString(), QStringLiteral("accepted"));

        const qint64 id = app->service().contributorId().toLongLong();
        QVERIFY(id > 0);
        ledger::ContributorStats ledgerSays;
        // The dashboard's figures converge on the ledger's (asked again after each unit).
        QVERIFY2(
            QTest::qWaitFor(
                [&] {
                    ledgerSays = d.coordinator->ledger().contributorStats(id, 30, QDateTime::currentDateTimeUtc());
                    const auto& t = app->credits().totals();
                    return t.known && t.microCredits == ledgerSays.earned &&
                           t.pendingMicroCredits == ledgerSays.pending && t.unitsAccepted == 11;
                },
                20000),
            qPrintable(
                QString("dashboard %1 vs ledger %2").arg(app->credits().totals().microCredits).arg(ledgerSays.earned)));
        QVERIFY(ledgerSays.pending > 0);
        QCOMPARE(ledgerSays.earned, 0);
        QCOMPARE(ledgerSays.revoked, 0);
        QCOMPARE(app->credits().totals().revokedMicroCredits, 0);
        QCOMPARE(ledgerSays.workUnitsAccepted, 11);
        QCOMPARE(app->credits().totals().flops, static_cast<double>(ledgerSays.flopsAccepted));
        QCOMPARE(app->credits().totals().todayMicroCredits, ledgerSays.pending);  // accepted today, not revoked
        // The worker's own sum of ResultAck credits agrees with the ledger too.
        QCOMPARE(app->service().sessionStats().microCredits, ledgerSays.pending);

        // The chart: 30 days, today's bar the credits of the day's accepted units.
        const QList<double> bars = window.dashboard()->chartValues();
        QCOMPARE(bars.size(), 30);
        QCOMPARE(qRound64(bars.last() * 1e6), ledgerSays.pending);
        auto* allTime = window.findChild<QLabel*>("allTimeFigures");
        QVERIFY2(allTime->text().contains("Earned: <b>" + CreditsModel::creditsText(ledgerSays.earned)),
                 qPrintable(allTime->text()));
        QVERIFY2(allTime->text().contains("Pending verification: " + CreditsModel::creditsText(ledgerSays.pending)),
                 qPrintable(allTime->text()));
        QVERIFY2(allTime->text().contains("Withheld (failed checks): " + CreditsModel::creditsText(0)),
                 qPrintable(allTime->text()));
        QVERIFY(window.findChild<QLabel*>("connectionState")->text().contains("connected to wss://"));
        // The job done and nothing else to compute: waiting, in the window and the tray's menu alike.
        QTRY_COMPARE_WITH_TIMEOUT(app->service().stateName(), QStringLiteral("waiting"), 10000);
        QTRY_COMPARE(headline->text(), QStringLiteral("waiting: no work from the coordinator right now"));
        QCOMPARE(window.findChild<QAction*>("statusAction")->text(), headline->text());

        // The coordinator goes away: the last figures stay, marked, with the next try.
        const QString coordinatorAddress = d.coordinator->url().authority();
        d.coordinator.reset();
        QVERIFY(QTest::qWaitFor([&] { return app->ledger().connection() == LedgerStats::Connection::Offline; }, 15000));
        QVERIFY(app->credits().totals().known);
        QVERIFY(app->credits().totals().offline);
        QCOMPARE(app->credits().totals().microCredits, ledgerSays.earned);
        QCOMPARE(app->credits().totals().pendingMicroCredits, ledgerSays.pending);
        QVERIFY2(app->ledger().connectionSentence().contains("next try in"),
                 qPrintable(app->ledger().connectionSentence()));
        QTRY_VERIFY(window.findChild<QLabel*>("figuresAsOf")->text().contains("Offline"));
        // The headline (the window's, the tray's tooltip and menu, --status) says so too, not
        // "computing", and that it tries again by itself...
        QTRY_VERIFY_WITH_TIMEOUT(app->service().coordinatorUnreachable(), 15000);
        QCOMPARE(app->service().stateName(), QStringLiteral("waiting"));
        QCOMPARE(headline->text(), QStringLiteral("waiting: cannot reach the coordinator at %1; trying again by itself")
                                       .arg(coordinatorAddress));
        QVERIFY(window.findChild<QPushButton*>("pauseButton")->isEnabled());
        // ...and it does: the coordinator back at the same address, the worker registers again.
        d.options.port = quint16(QUrl("wss://" + coordinatorAddress).port());
        d.start();
        QTRY_VERIFY_WITH_TIMEOUT(headline->text().startsWith("waiting: coordinator back at "), 40000);
        QVERIFY(!app->service().coordinatorUnreachable());
        QCOMPARE(app->service().stateName(), QStringLiteral("waiting"));  // the job is done: no work

        QSignalSpy done(app.get(), &ContributorApp::shutDownComplete);
        app->shutdown();
        QVERIFY(done.wait(40000));
    }

    // Setup with an address instead of an invite: the dialog connects once, shows the certificate's
    // fingerprint, refuses to go on until the person confirms it, then pins exactly that one.
    void setupByAddressConfirmsTheFingerprint() {
        test::Deployment d;
        d.start();
        auto app = std::make_unique<ContributorApp>(d.dir.filePath("by-address.ini"), quietDesktop());
        app->setStateDir(d.dir.filePath("by-address-state"));
        SetupDialog dialog(app->config(), app->service().knownHostsPath());
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        auto* address = dialog.findChild<QLineEdit*>("inviteEdit");
        auto* token = dialog.findChild<QLineEdit*>("tokenEdit");
        auto* fingerprint = dialog.findChild<QLabel*>("fingerprintLabel");
        auto* confirm = dialog.findChild<QCheckBox*>("confirmFingerprint");
        auto* start = dialog.findChild<QPushButton*>("startButton");
        auto* problem = dialog.findChild<QLabel*>("setupProblem");
        QVERIFY(address && token && fingerprint && confirm && start && problem);
        address->setFocus();
        QTest::keyClicks(address, d.coordinator->url().toString());
        QTest::keyClick(address, Qt::Key_Tab);
        QTRY_VERIFY_WITH_TIMEOUT(fingerprint->text().remove("<br>").contains(d.coordinator->fingerprint()), 10000);
        QTest::keyClicks(token, d.coordinator->addContributor("by-address"));
        QTest::mouseClick(start, Qt::LeftButton);
        QVERIFY2(problem->text().contains("compare the certificate fingerprint"), qPrintable(problem->text()));
        QVERIFY(!app->config().isSetUp());
        confirm->click();
        QTest::mouseClick(start, Qt::LeftButton);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QVERIFY(app->config().isSetUp());
        const QString hostPort =
            QStringLiteral("%1:%2").arg(d.coordinator->url().host()).arg(d.coordinator->url().port());
        QCOMPARE(
            protocol::KnownHosts(app->service().knownHostsPath()).check(hostPort, d.coordinator->fingerprint()).verdict,
            protocol::KnownHosts::Verdict::Trusted);
        // And the app then works with it.
        app->config().set(ConfigKey::ComputeWhen, "always");
        app->start(100000);
        QVERIFY(QTest::qWaitFor([&] { return app->ledger().connection() == LedgerStats::Connection::Online; }, 20000));
    }

    void changedCertificateIsRefused() {
        test::Deployment d;
        d.start();
        const QString wrong = "sha256:" + QStringList(32, "00").join(':');
        auto app = joinedApp(d, d.coordinator->addContributor("e2e-box"), wrong);
        QSignalSpy problem(&app->service(), &ContributionService::problemRaised);
        app->start(100000);
        QVERIFY(problem.wait(20000));
        QCOMPARE(app->service().stateName(), QStringLiteral("error"));
        QVERIFY2(app->service().statusSentence().contains("certificate"), qPrintable(app->service().statusSentence()));
        QVERIFY2(app->service().statusSentence().contains(d.coordinator->fingerprint()),
                 qPrintable(app->service().statusSentence()));
        // Both fingerprints: the one pinned at setup and the one the coordinator shows now.
        QVERIFY2(app->service().statusSentence().contains(wrong), qPrintable(app->service().statusSentence()));
        QVERIFY(QTest::qWaitFor([&] { return app->ledger().connection() == LedgerStats::Connection::Refused; }, 10000));
        QVERIFY(!app->service().workerRunning());
    }

    void revokedTokenIsRefused() {
        test::Deployment d;
        d.start();
        auto app = joinedApp(d, QStringLiteral("not-a-token-this-coordinator-gave"));
        QSignalSpy problem(&app->service(), &ContributionService::problemRaised);
        app->start(100000);
        QVERIFY(problem.wait(20000));
        QCOMPARE(app->service().stateName(), QStringLiteral("error"));
        QVERIFY2(app->service().statusSentence().startsWith("stopped: "), qPrintable(app->service().statusSentence()));
        QVERIFY(QTest::qWaitFor([&] { return app->ledger().connection() == LedgerStats::Connection::Refused; }, 10000));
        QVERIFY2(app->ledger().connectionSentence().contains("token"), qPrintable(app->ledger().connectionSentence()));
    }
};

QTEST_MAIN(TestContributorEndToEnd)
#include "tst_ContributorEndToEnd.moc"
