#include "ContributorWindow.h"

#include <QApplication>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QSystemTrayIcon>
#include <QVBoxLayout>

#include "DeviceTable.h"

namespace raven::contributor {

ContributorWindow::ContributorWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("Raven Contributor"));
    setObjectName("contributorWindow");
    resize(820, 360);

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    state_ = new QLabel(tr("<h2>Your compute</h2><p>Raven can donate these devices' idle time to training "
                           "jobs. No coordinator is configured, so nothing is being computed.</p>"),
                        central);
    state_->setObjectName("stateLabel");
    state_->setWordWrap(true);
    layout->addWidget(state_);
    devices_ = new app::DeviceTable(central);
    layout->addWidget(devices_);
    auto* summary = new QLabel(central);
    summary->setObjectName("deviceSummary");
    layout->addWidget(summary);
    connect(devices_, &app::DeviceTable::refreshed, summary,
            [this, summary] { summary->setText(devices_->statusText()); });
    setCentralWidget(central);

    auto* menu = menuBar()->addMenu(tr("&Raven"));
    menu->addAction(tr("&Refresh devices"), devices_, &app::DeviceTable::refresh)->setShortcut(QKeySequence::Refresh);
    menu->addSeparator();
    menu->addAction(tr("&Quit"), qApp, &QApplication::quit)->setShortcut(QKeySequence::Quit);

    createTray();
    devices_->refresh();
}

void ContributorWindow::createTray() {
    if (!QSystemTrayIcon::isSystemTrayAvailable()) return;
    tray_ = new QSystemTrayIcon(QApplication::windowIcon(), this);
    tray_->setToolTip(tr("Raven Contributor: idle"));
    auto* menu = new QMenu(this);
    menu->addAction(tr("Show Raven"), this, [this] {
        show();
        raise();
        activateWindow();
    });
    menu->addSeparator();
    menu->addAction(tr("Quit"), qApp, &QApplication::quit);
    tray_->setContextMenu(menu);
    connect(tray_, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger) setVisible(!isVisible());
    });
    tray_->show();
}

}  // namespace raven::contributor
