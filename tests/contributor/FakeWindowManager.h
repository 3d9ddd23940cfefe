#pragma once
// What an EWMH window manager publishes about the active window, played on an X display of the
// test's own: a window, its title (_NET_WM_NAME), its state (_NET_WM_STATE_FULLSCREEN or not) and
// the root's _NET_ACTIVE_WINDOW naming it. Xlib stays in the .cpp: its macros clash with Qt's.
#include <QString>

class FakeWindowManager {
public:
    explicit FakeWindowManager(const QString& display);
    ~FakeWindowManager();
    FakeWindowManager(const FakeWindowManager&) = delete;
    FakeWindowManager& operator=(const FakeWindowManager&) = delete;

    bool connected() const { return display_ != nullptr; }
    // Makes a window titled `title` the active one, full-screen.
    void showFullScreen(const QString& title);
    // The active window leaves full screen.
    void leaveFullScreen();

private:
    void* display_ = nullptr;
    unsigned long window_ = 0;
};
