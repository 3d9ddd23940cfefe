#pragma once
// WorkerPhase: where a Worker's session stands, as one state with its transitions (Worker.h).
//
//   idle -> connecting -> authenticating -> registering -> registered
//   connecting -> registering                        (no token yet: open enrollment)
//   connecting/authenticating -> awaiting_device -> registering   (the device's benchmark still running)
//   connecting .. registered -> reconnecting -> connecting         (the connection lost or not made)
//   registered -> draining          (stop(): units handed back, the one computing finishing)
//   any phase but stopped -> closing (stop() before registering, giving up, draining done)
//   draining/closing -> stopped      (terminal: stopped() emitted)
//
// The lease loop's own state (a LeaseRequest in flight) and the compute thread's (busy or not) run
// alongside `registered` and `draining`; they are not phases of the session.
#include <QString>

namespace raven::worker {

enum class WorkerPhase {
    Idle,            // made, start() not called
    Connecting,      // the connection opening (TLS, Hello)
    Authenticating,  // Authenticate sent
    AwaitingDevice,  // ready to register, waiting for the device's benchmark
    Registering,     // RegisterContributor sent (with the token, or without one to enroll)
    Registered,      // leasing, computing, submitting
    Reconnecting,    // the connection is gone; the next attempt is scheduled
    Draining,        // stopping while registered: units handed back, the one computing finishing
    Closing,         // stopping or giving up: the connection closing, or nothing left to close
    Stopped,         // stopped() emitted; terminal
};

QString nameOf(WorkerPhase phase);  // "idle", "connecting", ..., "stopped"
// Whether the session may go from one phase to the other (a phase to itself: always).
bool canMove(WorkerPhase from, WorkerPhase to);
// draining, closing, stopped: no new work is taken and nothing reconnects.
inline bool isStopping(WorkerPhase phase) { return phase >= WorkerPhase::Draining; }
// registered, draining: the coordinator knows this worker in this connection.
inline bool isRegistered(WorkerPhase phase) {
    return phase == WorkerPhase::Registered || phase == WorkerPhase::Draining;
}
// From connecting to draining, reconnecting aside: a connection is open or opening.
bool holdsConnection(WorkerPhase phase);

}  // namespace raven::worker
