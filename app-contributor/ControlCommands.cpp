#include "ControlCommands.h"

#include "ContributionService.h"

namespace raven::contributor {

QString runControlCommand(ContributionService& service, const QString& command, const QString& argument) {
    if (command == QLatin1String("pause")) {
        service.pause();
    } else if (command == QLatin1String("resume")) {
        service.resume();
    } else if (command == QLatin1String("snooze")) {
        const auto until = ComputePolicy::snoozeEnd(argument, QDateTime::currentDateTime());
        if (!until)
            return QStringLiteral("error \"%1\" is not a snooze: use 1h, 30m, tomorrow or a time like 14:00")
                .arg(argument);
        service.snooze(*until);
    } else if (command != QLatin1String("status")) {
        return QStringLiteral("error unknown command \"%1\": use status, pause, resume or snooze").arg(command);
    }
    service.reevaluate();
    return QStringLiteral("ok %1: %2").arg(service.stateName(), service.statusSentence());
}

}  // namespace raven::contributor
