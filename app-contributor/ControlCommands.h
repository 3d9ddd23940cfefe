#pragma once
// What the control commands do to the running app (ControlChannel carries them):
//   status            -> "ok <state>: <sentence>"      e.g. "ok snoozed: snoozed until 14:00 (52 min left)"
//   pause | resume    -> the same line, after the change
//   snooze <when>     -> "1h", "30m", "tomorrow", "14:00" (ComputePolicy::snoozeEnd)
// Anything else: "error ..." with what is understood. "show" (raise the window) is the window's.
#include <QString>

namespace raven::contributor {

class ContributionService;

QString runControlCommand(ContributionService& service, const QString& command, const QString& argument);

}  // namespace raven::contributor
