#pragma once
// The first size of a main window, fitted to the screen it opens on: the size the window would
// like where the screen has room, and on a small screen (1280x800, 1024x768) its available area
// less the window manager's frame, so that the title bar and the status bar stay on the screen.
//
//   window.resize(fittedWindowSize(QSize(1300, 840), window.minimumSizeHint(), screen->availableGeometry()));
//   fitToScreen(window, QSize(1300, 840));   // the same, on the screen the window will open on
#include <QRect>
#include <QSize>

class QWidget;

namespace raven::app {

// Room kept for the window manager's frame, which is not known before the window is shown: a title
// bar and borders (about 30 px and 2 x 4 px on common desktops), with some slack.
inline constexpr QSize kWindowFrameAllowance{16, 48};

// `preferred`, bounded by `available` less the frame allowance, never below `minimum` (a layout
// squeezed below what it needs clips its widgets; the screen must then be larger or scaled down).
QSize fittedWindowSize(QSize preferred, QSize minimum, const QRect& available);

// Resizes `window` (a top-level widget, before it is shown) to fittedWindowSize() for the screen it
// will open on.
void fitToScreen(QWidget& window, QSize preferred);

}  // namespace raven::app
