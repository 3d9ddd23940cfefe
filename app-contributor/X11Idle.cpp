#include "X11Idle.h"

#include <algorithm>
#include <vector>

#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/extensions/scrnsaver.h>

namespace raven::contributor {

X11Idle::X11Idle(QString display) : name_(std::move(display)) {}

X11Idle::~X11Idle() {
    if (display_) XCloseDisplay(static_cast<Display*>(display_));
}

namespace {

// A window that closes between two requests makes Xlib report BadWindow; its default handler would
// end the process. Those errors only mean "no answer" here.
int ignoreXErrors(Display*, XErrorEvent*) { return 0; }

// A property's items (format 32: longs), empty when absent.
std::vector<unsigned long> property(Display* display, Window window, Atom name, Atom type) {
    Atom actualType = None;
    int format = 0;
    unsigned long count = 0, after = 0;
    unsigned char* data = nullptr;
    std::vector<unsigned long> out;
    if (XGetWindowProperty(display, window, name, 0, 64, False, type, &actualType, &format, &count, &after, &data) ==
            Success &&
        data && format == 32) {
        const auto* items = reinterpret_cast<const unsigned long*>(data);
        out.assign(items, items + count);
    }
    if (data) XFree(data);
    return out;
}

}  // namespace

bool X11Idle::open() {
    if (!tried_) {
        tried_ = true;
        // A Wayland session or a console has no X server to ask: that is fine, the next layer answers.
        if (name_ == QLatin1String("none")) return false;
        const QByteArray name = name_.toLocal8Bit();
        if (!name_.isEmpty() || !qEnvironmentVariableIsEmpty("DISPLAY")) {
            XSetErrorHandler(ignoreXErrors);
            display_ = XOpenDisplay(name_.isEmpty() ? nullptr : name.constData());
        }
        int event = 0, error = 0;
        available_ = display_ && XScreenSaverQueryExtension(static_cast<Display*>(display_), &event, &error);
    }
    return display_ != nullptr;
}

QString X11Idle::fullScreenWindow() {
    if (!open()) return {};
    auto* display = static_cast<Display*>(display_);
    const Atom activeAtom = XInternAtom(display, "_NET_ACTIVE_WINDOW", True);
    const Atom stateAtom = XInternAtom(display, "_NET_WM_STATE", True);
    const Atom fullAtom = XInternAtom(display, "_NET_WM_STATE_FULLSCREEN", True);
    if (activeAtom == None || stateAtom == None || fullAtom == None) return {};  // no EWMH window manager
    const auto active = property(display, DefaultRootWindow(display), activeAtom, XA_WINDOW);
    if (active.empty() || active.front() == None) return {};
    const Window window = active.front();
    const auto states = property(display, window, stateAtom, XA_ATOM);
    if (std::find(states.begin(), states.end(), fullAtom) == states.end()) return {};
    QString title;
    const Atom nameAtom = XInternAtom(display, "_NET_WM_NAME", True);
    const Atom utf8 = XInternAtom(display, "UTF8_STRING", True);
    if (nameAtom != None && utf8 != None) {
        Atom type = None;
        int format = 0;
        unsigned long count = 0, after = 0;
        unsigned char* data = nullptr;
        if (XGetWindowProperty(display, window, nameAtom, 0, 256, False, utf8, &type, &format, &count, &after, &data) ==
                Success &&
            data && format == 8)
            title = QString::fromUtf8(reinterpret_cast<const char*>(data), static_cast<qsizetype>(count));
        if (data) XFree(data);
    }
    return title.isEmpty() ? QStringLiteral("(untitled)") : title;
}

std::optional<qint64> X11Idle::idleMs() {
    open();
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
