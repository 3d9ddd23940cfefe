#include "ContributorWindow.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QSystemTrayIcon>
#include <QTabWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "ContributorActions.h"
#include "ContributorApp.h"
#include "DashboardPage.h"
#include "DevicesPage.h"
#include "SettingsPage.h"
#include "SetupDialog.h"
#include "StateIcons.h"
#include "WindowFit.h"

namespace raven::contributor {

ContributorWindow::ContributorWindow(ContributorApp& app, QWidget* parent) : QMainWindow(parent), app_(app) {
    setWindowTitle(tr("Raven Contributor"));
    setObjectName("contributorWindow");
    actions_ = new ContributorActions(app_.service(), this);

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    auto* statusRow = new QHBoxLayout;
    statusIcon_ = new QLabel(central);
    statusIcon_->setObjectName("statusIcon");
    statusRow->addWidget(statusIcon_);
    status_ = new QLabel(central);
    status_->setObjectName("statusLine");
    status_->setWordWrap(true);
    QFont big = status_->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    status_->setFont(big);
    statusRow->addWidget(status_, 1);
    pauseButton_ = new QPushButton(central);
    pauseButton_->setObjectName("pauseButton");
    connect(pauseButton_, &QPushButton::clicked, actions_->pauseResume, &QAction::trigger);
    statusRow->addWidget(pauseButton_);
    auto* snooze = new QToolButton(central);
    snooze->setObjectName("snoozeButton");
    snooze->setText(tr("S&nooze"));
    snooze->setPopupMode(QToolButton::InstantPopup);
    snooze->setMenu(actions_->snoozeMenu(snooze));
    statusRow->addWidget(snooze);
    layout->addLayout(statusRow);
    notice_ = new QLabel(central);
    notice_->setObjectName("noticeLine");
    notice_->setWordWrap(true);
    notice_->setStyleSheet(QStringLiteral("color: #c62828;"));
    notice_->hide();
    layout->addWidget(notice_);

    tabs_ = new QTabWidget(central);
    tabs_->setObjectName("tabs");
    dashboard_ = new DashboardPage(app_, tabs_);
    settings_ = new SettingsPage(app_.config(), tabs_);
    devices_ = new DevicesPage(app_.config(), tabs_);
    tabs_->addTab(dashboard_, tr("&Dashboard"));
    tabs_->addTab(settings_, tr("Se&ttings"));
    tabs_->addTab(devices_, tr("De&vices"));
    layout->addWidget(tabs_);
    setCentralWidget(central);

    auto* menu = menuBar()->addMenu(tr("&Raven"));
    menu->addAction(actions_->pauseResume);
    menu->addMenu(actions_->snoozeMenu(menu));
    menu->addSeparator();
    menu->addAction(actions_->setup);
    menu->addSeparator();
    menu->addAction(actions_->quit);
    auto* view = menuBar()->addMenu(tr("&View"));
    view->addAction(actions_->dashboard);
    view->addAction(actions_->settings);
    auto* devicesAction = view->addAction(tr("D&evices"));
    devicesAction->setShortcut(QKeySequence(tr("Ctrl+3")));
    connect(devicesAction, &QAction::triggered, this, [this] { showTab(devices_); });

    connect(actions_->dashboard, &QAction::triggered, this, [this] { showTab(dashboard_); });
    connect(actions_->settings, &QAction::triggered, this, [this] { showTab(settings_); });
    connect(actions_->setup, &QAction::triggered, this, &ContributorWindow::openSetup);
    connect(actions_->snoozeUntil, &QAction::triggered, this, &ContributorWindow::askSnoozeUntil);
    connect(&app_.service(), &ContributionService::decisionChanged, this, &ContributorWindow::refreshStatus);
    connect(&app_.service(), &ContributionService::problemRaised, this, [this](const QString& why) {
        // Only what needs the person becomes a notification.
        if (tray_) tray_->showMessage(tr("Raven Contributor stopped"), why, QSystemTrayIcon::Critical);
    });
    connect(&app_.service(), &ContributionService::noticeRaised, this,
            [this](const QString& title, const QString& text) {
                if (tray_) tray_->showMessage(title, text, QSystemTrayIcon::Warning);
            });
    // The countdown of a snooze and the seconds of "active 12 s ago" move with the clock.
    auto* tick = new QTimer(this);
    connect(tick, &QTimer::timeout, this, &ContributorWindow::refreshStatus);
    tick->start(1000);

    createTray();
    refreshStatus();
    app::fitToScreen(*this, QSize(980, 760));
}

void ContributorWindow::createTray() {
    if (!QSystemTrayIcon::isSystemTrayAvailable()) {
        // Said once, in the window (which then stays the way in).
        toldNoTray_ = true;
        notice_->setStyleSheet(QString());
        notice_->setText(
            tr("This desktop shows no tray icons (on GNOME, the AppIndicator extension adds them). "
               "Raven keeps computing when this window is closed; start Raven Contributor again to "
               "open it, or use raven-contributor --status from a terminal."));
        notice_->show();
        return;
    }
    tray_ = new QSystemTrayIcon(stateIcon(app_.service().stateName()), this);
    auto* menu = new QMenu(this);
    menu->setObjectName("trayMenu");
    menu->addAction(actions_->status);
    menu->addSeparator();
    menu->addAction(actions_->pauseResume);
    menu->addMenu(actions_->snoozeMenu(menu));
    menu->addSeparator();
    menu->addAction(actions_->dashboard);
    menu->addAction(actions_->settings);
    menu->addSeparator();
    menu->addAction(actions_->quit);
    tray_->setContextMenu(menu);
    // A left click opens the window where the tray reports one; the menu does everything regardless.
    connect(tray_, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger) raiseToFront();
    });
    tray_->show();
}

void ContributorWindow::refreshStatus() {
    const ContributionService& s = app_.service();
    const QString state = s.stateName();
    const QString sentence = s.statusSentence();
    if (state != lastTrayState_) {
        statusIcon_->setPixmap(stateIcon(state).pixmap(32, 32));
        if (tray_) tray_->setIcon(stateIcon(state));
        setWindowIcon(stateIcon(state));
        lastTrayState_ = state;
    }
    status_->setText(sentence);
    actions_->refresh();
    pauseButton_->setText(actions_->pauseResume->text());
    pauseButton_->setEnabled(actions_->pauseResume->isEnabled());
    if (tray_) tray_->setToolTip(tr("Raven Contributor: %1").arg(sentence));
    if (!toldNoTray_) {
        notice_->setText(s.problem().isEmpty() ? QString()
                                               : tr("Needs you: %1. Check the settings or the setup, then "
                                                    "choose Resume.")
                                                     .arg(s.problem()));
        notice_->setVisible(!s.problem().isEmpty());
    }
}

void ContributorWindow::raiseToFront() {
    show();
    setWindowState((windowState() & ~Qt::WindowMinimized) | Qt::WindowActive);
    raise();
    activateWindow();
}

void ContributorWindow::showTab(QWidget* page) {
    tabs_->setCurrentWidget(page);
    raiseToFront();
}

void ContributorWindow::openSetup() {
    SetupDialog dialog(app_.config(), app_.service().knownHostsPath(), this);
    if (dialog.exec() == QDialog::Accepted) {
        app_.service().clearProblem();
        devices_->refresh();
        showTab(dashboard_);
    }
}

void ContributorWindow::askSnoozeUntil() {
    bool ok = false;
    const QString text = QInputDialog::getText(this, tr("Snooze until"),
                                               tr("Snooze until (a time like 14:00, or a span like 2h or 30m):"),
                                               QLineEdit::Normal, QStringLiteral("2h"), &ok);
    if (!ok) return;
    const auto until = ComputePolicy::snoozeEnd(text, QDateTime::currentDateTime());
    if (!until) {
        notice_->setText(tr("\"%1\" is not a time or a span: write 14:00, 2h or 30m.").arg(text));
        notice_->show();
        return;
    }
    app_.service().snooze(*until);
}

void ContributorWindow::closeEvent(QCloseEvent* event) {
    // Closing never stops the computing: only Quit does.
    hide();
    event->ignore();
}

}  // namespace raven::contributor
