#pragma once
// Which Qt event loop a process with thousands of sockets runs on. Qt on Linux defaults to GLib's main
// loop, whose socket bookkeeping is a list: every time a socket's write notifier is switched on or
// off (each message sent: QAbstractSocket waits for "writable" only while it has bytes queued) Qt
// and GLib search that list, so one message costs O(connections). With 6,000 connected workers that
// search was a third of the coordinator's CPU and the enrollments slowed from 70/s to 11/s
// (docs/benchmarks.md, "Coordinator capacity"). Qt's own UNIX dispatcher keeps notifiers in a hash
// (O(1) per switch) and builds its poll set once per loop pass, shared by every event of that pass.
//
//   int main(int argc, char** argv) {
//       raven::protocol::preferScalableEventDispatcher();   // before the QCoreApplication
//       QCoreApplication app(argc, argv);
//
// An operator's own QT_NO_GLIB setting is left alone.
namespace raven::protocol {

void preferScalableEventDispatcher();

}  // namespace raven::protocol
