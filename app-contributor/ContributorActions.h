#pragma once
// The app's actions, made once and put in both the window's menus and the tray's menu, so that
// everything the tray offers is also reachable from the window (Linux trays are fragile) and by
// keyboard. Their texts and enabled states follow the service's decision.
#include <QObject>

class QAction;
class QMenu;
class QWidget;

namespace raven::contributor {

class ContributionService;

class ContributorActions : public QObject {
    Q_OBJECT
public:
    ContributorActions(ContributionService& service, QWidget* parent);

    QAction* status = nullptr;          // disabled: the status sentence, first line of the tray menu
    QAction* pauseResume = nullptr;     // "Pause" or "Resume" (Ctrl+P)
    QAction* snoozeHour = nullptr;      // "Snooze for an hour"
    QAction* snoozeTomorrow = nullptr;  // "Snooze until tomorrow"
    QAction* snoozeUntil = nullptr;     // "Snooze until…" (asks for a time)
    QAction* dashboard = nullptr;       // opens the window on the dashboard
    QAction* settings = nullptr;        // opens the window on the settings
    QAction* setup = nullptr;           // "Set up coordinator…"
    QAction* quit = nullptr;            // hands leases back, then quits (Ctrl+Q)

    // "Snooze" submenu with the three snooze actions.
    QMenu* snoozeMenu(QWidget* parent) const;
    void refresh();

signals:
    void snoozeUntilAsked();  // the window asks for the time

private:
    ContributionService& service_;
};

}  // namespace raven::contributor
