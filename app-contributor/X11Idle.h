#pragma once
// X11Idle: the idle time an X server knows (MIT-SCREEN-SAVER, XScreenSaverQueryInfo), for X11
// desktops that offer neither Mutter's idle monitor nor a ScreenSaver service on D-Bus.
//
//   X11Idle x11;                         // opens $DISPLAY (or the display named) on first use
//   std::optional<qint64> ms = x11.idleMs();   // nullopt: no X server, or no such extension
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

private:
    QString name_;
    void* display_ = nullptr;  // Display*, kept out of the header (Xlib's macros clash with Qt's)
    bool tried_ = false;
    bool available_ = false;
};

}  // namespace raven::contributor
