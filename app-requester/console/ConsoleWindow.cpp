#include "ConsoleWindow.h"

#include <QAction>
#include <QApplication>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>
#include <QToolBar>
#include <QVBoxLayout>

#include "DeviceTable.h"

namespace raven::console {

ConsoleWindow::ConsoleWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("Raven Console"));
    setObjectName("consoleWindow");
    resize(860, 420);

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    auto* heading = new QLabel(tr("<h2>Compute on this machine</h2>"
                                  "<p>Training on this machine runs on one of these devices: a Vulkan GPU "
                                  "when there is one, otherwise the CPU.</p>"),
                               central);
    heading->setWordWrap(true);
    layout->addWidget(heading);
    devices_ = new app::DeviceTable(central);
    layout->addWidget(devices_);
    setCentralWidget(central);

    status_ = new QLabel(this);
    statusBar()->addWidget(status_);
    connect(devices_, &app::DeviceTable::refreshed, this, [this] { status_->setText(devices_->statusText()); });

    auto* fileMenu = menuBar()->addMenu(tr("&File"));
    auto* refresh = fileMenu->addAction(tr("&Refresh devices"), devices_, &app::DeviceTable::refresh);
    refresh->setObjectName("refreshDevices");
    refresh->setShortcut(QKeySequence::Refresh);
    fileMenu->addSeparator();
    fileMenu->addAction(tr("&Quit"), qApp, &QApplication::quit)->setShortcut(QKeySequence::Quit);
    menuBar()->addMenu(tr("&Help"))->addAction(tr("&About Raven"), this, &ConsoleWindow::showAbout);

    devices_->refresh();
}

void ConsoleWindow::showAbout() {
    QMessageBox::about(this, tr("About Raven Console"),
                       tr("<b>Raven Console %1</b><p>Train neural networks on compute that volunteers donate.</p>")
                           .arg(QApplication::applicationVersion()));
}

}  // namespace raven::console
