#pragma once
// The contributor app's window and tray icon. One sentence of status first (what it does and why),
// then tabs: the dashboard, the settings, the devices. Every action is in the menus with a shortcut
// and in the tray's menu. Closing the window only hides it: the app keeps computing within its
// limits until Quit. Without a tray host it says so once, and the window is the app.
#include <QMainWindow>

class QLabel;
class QPushButton;
class QSystemTrayIcon;
class QTabWidget;

namespace raven::contributor {

class ContributorApp;
class ContributorActions;
class DashboardPage;
class DevicesPage;
class SettingsPage;

class ContributorWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit ContributorWindow(ContributorApp& app, QWidget* parent = nullptr);

    // Null where the desktop has no system tray (then the window is the whole app).
    QSystemTrayIcon* tray() const { return tray_; }
    ContributorActions* actions() const { return actions_; }
    DashboardPage* dashboard() const { return dashboard_; }
    SettingsPage* settings() const { return settings_; }
    DevicesPage* devices() const { return devices_; }
    QTabWidget* tabs() const { return tabs_; }

    void raiseToFront();  // show, raise and activate (a second launch, the tray)
    void showTab(QWidget* page);
    void openSetup();
    // Ask for a time, then snooze until it.
    void askSnoozeUntil();
    // Set by the tray-less case: true once the person has been told.
    bool toldNoTray() const { return toldNoTray_; }

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void createTray();
    void refreshStatus();

    ContributorApp& app_;
    ContributorActions* actions_ = nullptr;
    QLabel* statusIcon_ = nullptr;
    QLabel* status_ = nullptr;
    QLabel* notice_ = nullptr;
    QPushButton* pauseButton_ = nullptr;
    QTabWidget* tabs_ = nullptr;
    DashboardPage* dashboard_ = nullptr;
    SettingsPage* settings_ = nullptr;
    DevicesPage* devices_ = nullptr;
    QSystemTrayIcon* tray_ = nullptr;
    QString lastTrayState_;
    bool toldNoTray_ = false;
};

}  // namespace raven::contributor
