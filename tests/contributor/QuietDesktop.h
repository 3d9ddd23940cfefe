#pragma once
// A desktop with no session or system bus and no X display: no idle, battery, lock or sleep input
// reaches the policy, so a test's settings alone decide whether the app computes.
#include <QDBusConnection>

#include <memory>

#include "DesktopMonitor.h"

namespace raven::contributor {

inline std::unique_ptr<DesktopMonitor> quietDesktop() {
    auto desktop = std::make_unique<DesktopMonitor>(QDBusConnection(QStringLiteral("raven-no-session")),
                                                    QDBusConnection(QStringLiteral("raven-no-system")));
    desktop->setX11Display(QStringLiteral("none"));
    return desktop;
}

}  // namespace raven::contributor
