#pragma once
// An Error's message and hint as a person reads them in a dialog or a status bar. Errors are written
// in lower case without a full stop so that they compose ("cannot reach X: refused"); shown on
// their own they become sentences: "Cannot reach X: refused. Check that raven-coordinator runs there."
#include <QString>

namespace raven::app {

// The message, then the hint (either may be empty), each starting with a capital and ending with a
// full stop, separated by a space.
QString errorSentences(const QString& message, const QString& hint = {});

}  // namespace raven::app
