#include "WindowFit.h"

#include <QGuiApplication>
#include <QScreen>
#include <QWidget>

namespace raven::app {

QSize fittedWindowSize(QSize preferred, QSize minimum, const QRect& available) {
    if (!available.isValid()) return preferred.expandedTo(minimum);
    const QSize room = (available.size() - kWindowFrameAllowance).expandedTo(QSize(1, 1));
    return preferred.boundedTo(room).expandedTo(minimum);
}

void fitToScreen(QWidget& window, QSize preferred) {
    QScreen* screen = window.screen() ? window.screen() : QGuiApplication::primaryScreen();
    if (!screen) return void(window.resize(preferred));
    const QRect available = screen->availableGeometry();
    // Only the size: where it opens is the window manager's to choose.
    window.resize(fittedWindowSize(preferred, window.minimumSizeHint(), available));
}

}  // namespace raven::app
