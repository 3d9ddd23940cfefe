#include "FakeWindowManager.h"

#include <X11/Xatom.h>
#include <X11/Xlib.h>

FakeWindowManager::FakeWindowManager(const QString& display)
    : display_(XOpenDisplay(display.toLocal8Bit().constData())) {}

FakeWindowManager::~FakeWindowManager() {
    if (display_) XCloseDisplay(static_cast<Display*>(display_));
}

void FakeWindowManager::showFullScreen(const QString& title) {
    auto* x = static_cast<Display*>(display_);
    const Window root = DefaultRootWindow(x);
    if (!window_) window_ = XCreateSimpleWindow(x, root, 0, 0, 640, 480, 0, 0, 0);
    const QByteArray name = title.toUtf8();
    XChangeProperty(x, window_, XInternAtom(x, "_NET_WM_NAME", False), XInternAtom(x, "UTF8_STRING", False), 8,
                    PropModeReplace, reinterpret_cast<const unsigned char*>(name.constData()), name.size());
    Atom full = XInternAtom(x, "_NET_WM_STATE_FULLSCREEN", False);
    XChangeProperty(x, window_, XInternAtom(x, "_NET_WM_STATE", False), XA_ATOM, 32, PropModeReplace,
                    reinterpret_cast<const unsigned char*>(&full), 1);
    Window active = window_;
    XChangeProperty(x, root, XInternAtom(x, "_NET_ACTIVE_WINDOW", False), XA_WINDOW, 32, PropModeReplace,
                    reinterpret_cast<const unsigned char*>(&active), 1);
    XSync(x, False);
}

void FakeWindowManager::leaveFullScreen() {
    auto* x = static_cast<Display*>(display_);
    if (!window_) return;
    XDeleteProperty(x, window_, XInternAtom(x, "_NET_WM_STATE", False));
    XSync(x, False);
}
