#pragma once
// Start at login, the XDG way: an autostart entry in $XDG_CONFIG_HOME/autostart (~/.config/autostart)
// that starts the app in the tray. The StartAtLogin setting writes it and removes it.
#include <QString>

namespace raven::contributor {

// The entry's path: <autostartDir>/org.raven.Contributor.desktop; empty dir: the user's.
QString autostartPath(const QString& autostartDir = {});
// Writes (enabled) or removes (disabled) the entry; false and *why when the file cannot be written.
bool setStartAtLogin(bool enabled, const QString& autostartDir = {}, QString* why = nullptr);

}  // namespace raven::contributor
