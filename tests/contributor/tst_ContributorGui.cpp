// The contributor window driven like a person would (offscreen, real widgets): it fits a laptop's
// screen on every tab; the status line says why; Pause/Resume and Snooze change the state and the
// tray-less notice is shown once; the settings refuse a bad value where it was typed and apply a
// good one at once; the devices list lavapipe and the CPU by identity; the log filters; the setup
// takes an invite and pins it.
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QWheelEvent>

#include "ContributorActions.h"
#include "ContributorApp.h"
#include "ContributorWindow.h"
#include "DevicesPage.h"
#include "Invite.h"
#include "QuietDesktop.h"
#include "SettingsPage.h"
#include "SetupDialog.h"
#include "WindowFit.h"
#include "protocol/KnownHosts.h"

using namespace raven::contributor;

namespace {

void maybeSave(QWidget& w, const QString& name) {
    const QString dir = qEnvironmentVariable("RAVEN_SCREENSHOT_DIR");
    if (dir.isEmpty()) return;
    QTest::qWait(100);  // let pending layout requests settle first
    QVERIFY(w.grab().save(dir + "/" + name + ".png"));
}

}  // namespace

class TestContributorGui : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    int n_ = 0;

    std::unique_ptr<ContributorApp> makeApp() {
        auto app =
            std::make_unique<ContributorApp>(dir_.filePath(QStringLiteral("gui-%1.ini").arg(++n_)), quietDesktop());
        app->setStateDir(dir_.filePath(QStringLiteral("state-%1").arg(n_)));
        app->setAutostartDir(dir_.filePath(QStringLiteral("autostart-%1").arg(n_)));
        return app;
    }

private slots:

    // On a laptop's screen (1280x800, 1024x768) the window opens whole on every tab: the size it
    // takes there is not pushed back up by a tab's minimum.
    void fitsSmallScreens() {
        auto app = makeApp();
        ContributorWindow window(*app);
        auto* tabs = window.findChild<QTabWidget*>("tabs");
        for (const QRect screen : {QRect(0, 0, 1280, 800), QRect(0, 0, 1024, 768)}) {
            const QSize fitted = raven::app::fittedWindowSize(QSize(980, 760), window.minimumSizeHint(), screen);
            QVERIFY(fitted.width() + raven::app::kWindowFrameAllowance.width() <= screen.width());
            QVERIFY(fitted.height() + raven::app::kWindowFrameAllowance.height() <= screen.height());
            window.resize(fitted);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            for (int tab = 0; tab < tabs->count(); ++tab) {
                tabs->setCurrentIndex(tab);
                QApplication::processEvents();
                QCOMPARE(window.size(), fitted);
                QVERIFY(window.rect().contains(QRect(tabs->mapTo(&window, QPoint(0, 0)), tabs->size())));
            }
        }
        // Preferred where the screen has room; the screen less the frame where it has not.
        QCOMPARE(raven::app::fittedWindowSize(QSize(980, 760), QSize(400, 300), QRect(0, 0, 1920, 1080)),
                 QSize(980, 760));
        QCOMPARE(raven::app::fittedWindowSize(QSize(980, 760), QSize(400, 300), QRect(0, 0, 1024, 768)),
                 QSize(980, 768 - raven::app::kWindowFrameAllowance.height()));
    }

    void statusPauseResumeSnooze() {
        auto app = makeApp();
        app->start(100000);
        ContributorWindow window(*app);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto* status = window.findChild<QLabel*>("statusLine");
        auto* pause = window.findChild<QPushButton*>("pauseButton");
        QVERIFY(status && pause);
        QCOMPARE(status->text(), QStringLiteral("not set up: choose a coordinator to contribute to"));
        QVERIFY(!pause->isEnabled());
        // The offscreen platform has no tray: said once, in the window.
        QVERIFY(!window.tray());
        QVERIFY(window.toldNoTray());
        QVERIFY(window.findChild<QLabel*>("noticeLine")->text().contains("no tray icons"));

        // Set up (a coordinator that is not there) and only when idle: no idle source here.
        QVERIFY(app->config().set(ConfigKey::ContributorToken, "t"));
        QVERIFY(app->config().set(ConfigKey::CoordinatorUrl, "wss://127.0.0.1:9"));
        QTRY_COMPARE(status->text(), QStringLiteral("waiting: this desktop does not tell when you are idle; choose "
                                                    "\"Compute: always\" in Settings to compute anyway"));
        QVERIFY(pause->isEnabled());
        QCOMPARE(pause->text(), QStringLiteral("&Pause"));
        QTest::mouseClick(pause, Qt::LeftButton);
        QTRY_COMPARE(status->text(), QStringLiteral("paused by you: choose Resume to compute again"));
        QCOMPARE(app->config().get(ConfigKey::PausedByUser).toBool(), true);
        QCOMPARE(pause->text(), QStringLiteral("&Resume"));
        // The keyboard does the same: Ctrl+P.
        QTest::keyClick(&window, Qt::Key_P, Qt::ControlModifier);
        QTRY_VERIFY(status->text().startsWith("waiting:"));
        QCOMPARE(app->config().get(ConfigKey::PausedByUser).toBool(), false);

        window.actions()->snoozeHour->trigger();
        QTRY_VERIFY2(status->text().startsWith("snoozed until ") && status->text().contains("left)"),
                     qPrintable(status->text()));
        QCOMPARE(pause->text(), QStringLiteral("&Resume"));
        QCOMPARE(window.actions()->status->text(), status->text());  // the tray menu's first line
        QTest::mouseClick(pause, Qt::LeftButton);
        QTRY_VERIFY(status->text().startsWith("waiting:"));
        maybeSave(window, "contributor-window-waiting");
    }

    // The View menu's tabs in order from the keyboard: Ctrl+1, Ctrl+2, Ctrl+3; Ctrl+, opens the
    // settings too, as on the desktops that have it. The menu shows Ctrl+2.
    void viewShortcutsInTabOrder() {
        auto app = makeApp();
        ContributorWindow window(*app);
        window.show();
        QApplication::setActiveWindow(&window);
        QVERIFY(QTest::qWaitForWindowActive(&window));
        auto* tabs = window.tabs();
        const QList<std::pair<QKeySequence, QString>> presses = {{QKeySequence("Ctrl+2"), "Se&ttings"},
                                                                 {QKeySequence("Ctrl+1"), "&Dashboard"},
                                                                 {QKeySequence("Ctrl+3"), "De&vices"},
                                                                 {QKeySequence("Ctrl+,"), "Se&ttings"}};
        for (const auto& [keys, tab] : presses) {
            QTest::keySequence(&window, keys);
            QCOMPARE(tabs->tabText(tabs->currentIndex()), tab);
        }
        QCOMPARE(window.actions()->settings->shortcut(), QKeySequence("Ctrl+2"));
    }

    void settingsRefuseAndApply() {
        auto app = makeApp();
        app->start(100000);
        ContributorWindow window(*app);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.actions()->settings->trigger();
        QCOMPARE(window.tabs()->currentWidget(), static_cast<QWidget*>(window.settings()));

        auto* schedule = window.findChild<QLineEdit*>(SettingsPage::editorName(ConfigKey::Schedule));
        auto* scheduleError = window.findChild<QLabel*>(SettingsPage::editorName(ConfigKey::Schedule) + "Error");
        QVERIFY(schedule && scheduleError);
        schedule->setFocus();
        QTest::keyClicks(schedule, "Mon 9-5");
        QTest::keyClick(schedule, Qt::Key_Return);
        QVERIFY(scheduleError->isVisibleTo(&window));
        QVERIFY2(scheduleError->text().contains("Not saved") && scheduleError->text().contains("is not hours"),
                 qPrintable(scheduleError->text()));
        QCOMPARE(app->config().get(ConfigKey::Schedule).toString(), QString());
        schedule->clear();
        QTest::keyClicks(schedule, "Mon-Fri 18:00-08:00");
        QTest::keyClick(schedule, Qt::Key_Return);
        QVERIFY(!scheduleError->isVisibleTo(&window));
        QCOMPARE(app->config().get(ConfigKey::Schedule).toString(), QStringLiteral("Mon-Fri 18:00-08:00"));

        // The spin box will not take 150 (the range is 10..100); 50 applies at once.
        auto* cap = window.findChild<QSpinBox*>(SettingsPage::editorName(ConfigKey::GpuCapPercent));
        QVERIFY(cap);
        QCOMPARE(cap->maximum(), 100);
        cap->setFocus();
        cap->selectAll();
        QTest::keyClicks(cap, "150");
        QTest::keyClick(cap, Qt::Key_Return);
        QVERIFY(app->config().get(ConfigKey::GpuCapPercent).toInt() <= 100);
        cap->selectAll();
        QTest::keyClicks(cap, "50");
        QTest::keyClick(cap, Qt::Key_Return);
        QCOMPARE(app->config().get(ConfigKey::GpuCapPercent).toInt(), 50);

        // "always" makes the (set-up) app compute at the cap, without a restart; with no coordinator
        // there to hand it a unit, it says it waits.
        QVERIFY(app->config().set(ConfigKey::ContributorToken, "t"));
        QVERIFY(app->config().set(ConfigKey::CoordinatorUrl, "wss://127.0.0.1:9"));
        QVERIFY(app->config().set(ConfigKey::Schedule, ""));
        auto* when = window.findChild<QComboBox*>(SettingsPage::editorName(ConfigKey::ComputeWhen));
        QVERIFY(when);
        when->setCurrentText("always");
        QCOMPARE(app->config().get(ConfigKey::ComputeWhen).toString(), QStringLiteral("always"));
        QTRY_COMPARE(app->service().decision().reason, QStringLiteral("computing at 50% (GPU cap)"));
        QTRY_VERIFY2(window.findChild<QLabel*>("statusLine")->text().startsWith("waiting: "),
                     qPrintable(window.findChild<QLabel*>("statusLine")->text()));
        QVERIFY(app->service().workerRunning());
        QCOMPARE(app->service().worker()->dutyCycle(), 50);

        // Start at login writes the autostart entry.
        auto* login = window.findChild<QCheckBox*>(SettingsPage::editorName(ConfigKey::StartAtLogin));
        QVERIFY(login);
        login->click();
        QVERIFY(QFile::exists(dir_.filePath(QStringLiteral("autostart-%1/org.raven.Contributor.desktop").arg(n_))));
        // (docs/screenshots/contributor-settings.png comes from a real run: contributor_gpu_cap)

        // Quit hands back: the worker stops, then the app says it is done.
        QSignalSpy done(app.get(), &ContributorApp::shutDownComplete);
        app->shutdown();
        QVERIFY(done.wait(40000));
        QVERIFY(!app->service().workerRunning());
    }

    // The wheel over the settings scrolls the page; it changes a setting only once its editor has
    // the focus (a GPU cap passing under the pointer stays what it was).
    void wheelScrollsTheSettingsNotTheValues() {
        auto app = makeApp();
        ContributorWindow window(*app);
        window.resize(980, 520);  // shorter than the settings: the page scrolls
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.showTab(window.findChild<SettingsPage*>());
        auto* scroll = window.findChild<QScrollArea*>("settingsScroll");
        auto* cap = window.findChild<QSpinBox*>(SettingsPage::editorName(ConfigKey::GpuCapPercent));
        QVERIFY(scroll && cap);
        QTRY_VERIFY(scroll->verticalScrollBar()->maximum() > 0);
        const int before = app->config().get(ConfigKey::GpuCapPercent).toInt();
        auto wheelDown = [&] {
            const QPointF at(cap->width() / 2.0, cap->height() / 2.0);
            QWheelEvent down(at, cap->mapToGlobal(at), QPoint(), QPoint(0, -120), Qt::NoButton, Qt::NoModifier,
                             Qt::NoScrollPhase, false);
            QApplication::sendEvent(cap, &down);
        };
        wheelDown();
        QCOMPARE(app->config().get(ConfigKey::GpuCapPercent).toInt(), before);
        QVERIFY(scroll->verticalScrollBar()->value() > 0);
        QVERIFY(!cap->hasFocus());
        cap->setFocus();
        QTRY_VERIFY(cap->hasFocus());
        wheelDown();
        QCOMPARE(app->config().get(ConfigKey::GpuCapPercent).toInt(), before - 1);
    }

    void devicesByIdentity() {
        auto app = makeApp();
        ContributorWindow window(*app);
        QTableWidget* table = window.devices()->table();
        QVERIFY(table->rowCount() >= 2);
        int lavapipe = -1;
        for (int r = 0; r < table->rowCount(); ++r)
            if (table->item(r, 0)->text().contains("llvmpipe")) lavapipe = r;
        QVERIFY(lavapipe >= 0);
        const QString id = table->item(lavapipe, 0)->data(Qt::UserRole).toString();
        QVERIFY2(id.startsWith("vulkan:") && id.size() == 7 + 32 && id != "vulkan:" + QString(32, '0'), qPrintable(id));
        table->item(lavapipe, 0)->setCheckState(Qt::Checked);
        QCOMPARE(app->config().get(ConfigKey::Devices).toString(), id + QStringLiteral(",cpu"));
        table->item(table->rowCount() - 1, 0)->setCheckState(Qt::Unchecked);  // the CPU
        QCOMPARE(app->config().get(ConfigKey::Devices).toString(), id);
    }

    void logFilter() {
        auto app = makeApp();
        ContributorWindow window(*app);
        app->log().append("work unit 7 accepted");
        app->log().append("paused: on battery");
        auto* filter = window.findChild<QLineEdit*>("logFilter");
        auto* view = window.findChild<QListView*>("logView");
        QVERIFY(filter && view);
        const int all = view->model()->rowCount();
        QVERIFY(all >= 2);
        QTest::keyClicks(filter, "BATTERY");
        QCOMPARE(view->model()->rowCount(), 1);
        QVERIFY(view->model()->index(0, 0).data().toString().endsWith("paused: on battery"));
        filter->clear();
        QCOMPARE(view->model()->rowCount(), all);
    }

    void setupTakesAnInvite() {
        auto app = makeApp();
        const QString knownHosts = dir_.filePath("setup_known_hosts");
        SetupDialog dialog(app->config(), knownHosts);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        auto* invite = dialog.findChild<QLineEdit*>("inviteEdit");
        auto* name = dialog.findChild<QLineEdit*>("machineNameEdit");
        auto* start = dialog.findChild<QPushButton*>("startButton");
        auto* problem = dialog.findChild<QLabel*>("setupProblem");
        QVERIFY(invite && name && start && problem);

        // Without an invite: refused, and said why.
        QTest::mouseClick(start, Qt::LeftButton);
        QVERIFY(dialog.isVisible());
        QVERIFY2(problem->text().contains("write an invite"), qPrintable(problem->text()));

        const QString fp = "sha256:" + QStringList(32, "5A").join(':');
        const QString line = Invite{"coord.example.org", 7443, fp, "secret-token", "ana"}.toString();
        invite->setFocus();
        QTest::keyClicks(invite, line);
        QTest::keyClick(invite, Qt::Key_Tab);  // leaving the field reads the invite
        QVERIFY2(dialog.findChild<QLabel*>("fingerprintLabel")->text().remove("<br>").contains(fp),
                 qPrintable(dialog.findChild<QLabel*>("fingerprintLabel")->text()));
        name->clear();
        QTest::keyClicks(name, "ana-laptop");
        maybeSave(dialog, "contributor-setup");
        QTest::mouseClick(start, Qt::LeftButton);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QVERIFY(app->config().isSetUp());
        QCOMPARE(app->config().get(ConfigKey::CoordinatorUrl).toString(),
                 QStringLiteral("wss://coord.example.org:7443"));
        QCOMPARE(app->config().get(ConfigKey::ContributorToken).toString(), QStringLiteral("secret-token"));
        QCOMPARE(app->config().get(ConfigKey::MachineName).toString(), QStringLiteral("ana-laptop"));
        QCOMPARE(raven::protocol::KnownHosts(knownHosts).check("coord.example.org:7443", fp).verdict,
                 raven::protocol::KnownHosts::Verdict::Trusted);
    }
};

QTEST_MAIN(TestContributorGui)
#include "tst_ContributorGui.moc"
