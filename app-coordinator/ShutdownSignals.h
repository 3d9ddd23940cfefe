#pragma once
// SIGTERM and SIGINT end the event loop (QCoreApplication::quit) instead of the process, so that
// raven-coordinator shuts down cleanly under systemd and Ctrl-C. A signal handler may only write to
// a pipe; a QSocketNotifier on the other end calls quit() on the event loop's thread.
namespace raven::app {

void quitOnTerminationSignals();

}  // namespace raven::app
