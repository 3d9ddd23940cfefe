#pragma once
// SIGTERM and SIGINT end a Raven program the way its own Quit does, instead of killing it: the
// session manager at logout, systemd, `kill` and Ctrl-C. A signal handler may only write to a pipe;
// a QSocketNotifier on the other end runs the program's handler on the event loop's thread.
//
//   raven::app::quitOnTerminationSignals();                           // raven-coordinator, raven-console
//   raven::app::onTerminationSignals([&] { contributor.shutdown(); }); // hand the work back first
#include <functional>

namespace raven::app {

// Installs the handlers once; `handler` runs on the event loop for each signal that arrives.
void onTerminationSignals(std::function<void()> handler);
// The same with QCoreApplication::quit() as the handler.
void quitOnTerminationSignals();

}  // namespace raven::app
