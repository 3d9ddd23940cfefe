#include "X11Idle.h"

#include <X11/Xlib.h>
#include <X11/extensions/scrnsaver.h>

namespace raven::contributor {

X11Idle::X11Idle(QString display) : name_(std::move(display)) {}

X11Idle::~X11Idle() {
    if (display_) XCloseDisplay(static_cast<Display*>(display_));
}

std::optional<qint64> X11Idle::idleMs() {
    if (!tried_) {
        tried_ = true;
        // A Wayland session or a console has no X server to ask: that is fine, the next layer answers.
        const QByteArray name = name_.toLocal8Bit();
        if (name_ == QLatin1String("none")) return std::nullopt;
        if (!name_.isEmpty() || !qEnvironmentVariableIsEmpty("DISPLAY"))
            display_ = XOpenDisplay(name_.isEmpty() ? nullptr : name.constData());
        int event = 0, error = 0;
        available_ = display_ && XScreenSaverQueryExtension(static_cast<Display*>(display_), &event, &error);
    }
    if (!available_) return std::nullopt;
    auto* display = static_cast<Display*>(display_);
    XScreenSaverInfo* info = XScreenSaverAllocInfo();
    if (!info) return std::nullopt;
    std::optional<qint64> out;
    if (XScreenSaverQueryInfo(display, DefaultRootWindow(display), info)) out = static_cast<qint64>(info->idle);
    XFree(info);
    return out;
}

}  // namespace raven::contributor
