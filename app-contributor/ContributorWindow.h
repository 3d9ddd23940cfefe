#pragma once
// The contributor app's window, opened from the tray icon: what this machine can donate (its compute
// devices) and the app's state. Limits, activity and credits join it with the worker engine.
#include <QMainWindow>

class QLabel;
class QSystemTrayIcon;

namespace raven::app {
class DeviceTable;
}

namespace raven::contributor {

class ContributorWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit ContributorWindow(QWidget* parent = nullptr);

    app::DeviceTable* devices() const { return devices_; }
    // Null where the desktop has no system tray (then the window is the whole app).
    QSystemTrayIcon* tray() const { return tray_; }

private:
    void createTray();

    app::DeviceTable* devices_ = nullptr;
    QLabel* state_ = nullptr;
    QSystemTrayIcon* tray_ = nullptr;
};

}  // namespace raven::contributor
