#pragma once
// In a form that scrolls, the wheel scrolls the form: a spin box or combo box that passes under the
// pointer on the way does not take the wheel (and change a value that applies at once, a GPU cap
// of 100 becoming 86, a budget or an epoch count) until the person has given it the focus.
class QScrollArea;

namespace raven::app {

// Applies that to every spin box and combo box now inside `area`'s widget (call once the form is built).
void keepWheelForScrolling(QScrollArea& area);

}  // namespace raven::app
