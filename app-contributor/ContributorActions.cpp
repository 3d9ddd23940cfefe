#include "ContributorActions.h"

#include <QAction>
#include <QMenu>
#include <QWidget>

#include "ContributionService.h"

namespace raven::contributor {

ContributorActions::ContributorActions(ContributionService& service, QWidget* parent)
    : QObject(parent), service_(service) {
    auto make = [parent](const QString& text, const char* name) {
        auto* a = new QAction(text, parent);
        a->setObjectName(QString::fromLatin1(name));
        return a;
    };
    status = make(QString(), "statusAction");
    status->setEnabled(false);
    pauseResume = make(tr("&Pause"), "pauseResumeAction");
    pauseResume->setShortcut(QKeySequence(tr("Ctrl+P")));
    connect(pauseResume, &QAction::triggered, this, [this] {
        if (service_.heldByPerson())
            service_.resume();
        else
            service_.pause();
    });
    snoozeHour = make(tr("Snooze for an &hour"), "snoozeHourAction");
    connect(snoozeHour, &QAction::triggered, this,
            [this] { service_.snooze(QDateTime::currentDateTime().addSecs(3600)); });
    snoozeTomorrow = make(tr("Snooze until &tomorrow"), "snoozeTomorrowAction");
    connect(snoozeTomorrow, &QAction::triggered, this,
            [this] { service_.snooze(QDateTime(QDate::currentDate().addDays(1), QTime(0, 0))); });
    snoozeUntil = make(tr("Snooze &until…"), "snoozeUntilAction");
    connect(snoozeUntil, &QAction::triggered, this, &ContributorActions::snoozeUntilAsked);
    dashboard = make(tr("&Dashboard"), "dashboardAction");
    dashboard->setShortcut(QKeySequence(tr("Ctrl+1")));
    settings = make(tr("&Settings"), "settingsAction");
    // Ctrl+2 between the dashboard (Ctrl+1) and the devices (Ctrl+3); Ctrl+, as desktops have it for settings.
    settings->setShortcuts({QKeySequence(tr("Ctrl+2")), QKeySequence(tr("Ctrl+,"))});
    setup = make(tr("Set up &coordinator…"), "setupAction");
    quit = make(tr("&Quit (hand back work)"), "quitAction");
    quit->setShortcut(QKeySequence::Quit);
    connect(&service_, &ContributionService::decisionChanged, this, &ContributorActions::refresh);
    refresh();
}

QMenu* ContributorActions::snoozeMenu(QWidget* parent) const {
    auto* menu = new QMenu(tr("S&nooze"), parent);
    menu->setObjectName("snoozeMenu");
    menu->addAction(snoozeHour);
    menu->addAction(snoozeTomorrow);
    menu->addAction(snoozeUntil);
    return menu;
}

void ContributorActions::refresh() {
    status->setText(service_.statusSentence());
    pauseResume->setText(service_.heldByPerson() ? tr("&Resume") : tr("&Pause"));
    pauseResume->setEnabled(service_.decision().state != PolicyDecision::State::NotSetUp);
}

}  // namespace raven::contributor
