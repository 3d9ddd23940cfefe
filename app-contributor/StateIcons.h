#pragma once
// The tray icon of each state, drawn (not loaded) so that each reads on light and dark panels: a
// coloured disc with a white outline and a white glyph, recognisable by shape as well as colour.
//   computing: green disc, a play triangle     waiting: grey disc, a clock
//   paused:    amber disc, two bars            snoozed: blue disc, a crescent moon
//   error:     red disc, an exclamation mark   not set up: grey disc, a question mark
#include <QIcon>
#include <QString>

namespace raven::contributor {

// `state` as ContributionService::stateName() says it.
QIcon stateIcon(const QString& state);

}  // namespace raven::contributor
