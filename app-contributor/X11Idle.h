#pragma once
// X11Idle: what an X server knows about the person: the idle time (MIT-SCREEN-SAVER,
// XScreenSaverQueryInfo), for X11 desktops that offer neither Mutter's idle monitor nor a ScreenSaver
// service on D-Bus; and whether the active window is full-screen (the window manager's
// _NET_ACTIVE_WINDOW and its _NET_WM_STATE_FULLSCREEN, EWMH), for games and videos.
//
//   X11Idle x11;                         // opens $DISPLAY (or the display named) on first use
//   std::optional<qint64> ms = x11.idleMs();   // nullopt: no X server, or no such extension
//   QString game = x11.fullScreenWindow();     // the full-screen active window's title, or empty
#include <QString>

#include <optional>

namespace raven::contributor {

class X11Idle {
public:
    explicit X11Idle(QString display = {});  // empty: $DISPLAY; "none": never asks
    ~X11Idle();
    X11Idle(const X11Idle&) = delete;
    X11Idle& operator=(const X11Idle&) = delete;

    std::optional<qint64> idleMs();
    // The title of the active window when it is full-screen ("(untitled)" without one); empty when
    // it is not, or when there is no X server or window manager to say.
    QString fullScreenWindow();

private:
    bool open();
    QString name_;
    void* display_ = nullptr;  // Display*, kept out of the header (Xlib's macros clash with Qt's)
    bool tried_ = false;
    bool available_ = false;
};

}  // namespace raven::contributor
