#include "worker/WorkerPhase.h"

namespace raven::worker {

QString nameOf(WorkerPhase phase) {
    switch (phase) {
        case WorkerPhase::Idle: return QStringLiteral("idle");
        case WorkerPhase::Connecting: return QStringLiteral("connecting");
        case WorkerPhase::Authenticating: return QStringLiteral("authenticating");
        case WorkerPhase::AwaitingDevice: return QStringLiteral("awaiting_device");
        case WorkerPhase::Registering: return QStringLiteral("registering");
        case WorkerPhase::Registered: return QStringLiteral("registered");
        case WorkerPhase::Reconnecting: return QStringLiteral("reconnecting");
        case WorkerPhase::Draining: return QStringLiteral("draining");
        case WorkerPhase::Closing: return QStringLiteral("closing");
        case WorkerPhase::Stopped: return QStringLiteral("stopped");
    }
    return QStringLiteral("unknown");
}

bool holdsConnection(WorkerPhase phase) {
    return phase >= WorkerPhase::Connecting && phase <= WorkerPhase::Draining && phase != WorkerPhase::Reconnecting;
}

bool canMove(WorkerPhase from, WorkerPhase to) {
    using P = WorkerPhase;
    if (from == to) return true;
    if (from == P::Stopped) return false;
    if (to == P::Closing) return true;
    switch (from) {
        case P::Idle: return to == P::Connecting;
        case P::Connecting:
            return to == P::Authenticating || to == P::AwaitingDevice || to == P::Registering || to == P::Reconnecting;
        case P::Authenticating: return to == P::AwaitingDevice || to == P::Registering || to == P::Reconnecting;
        case P::AwaitingDevice: return to == P::Registering || to == P::Reconnecting;
        case P::Registering: return to == P::Registered || to == P::Reconnecting;
        case P::Registered: return to == P::Draining || to == P::Reconnecting;
        case P::Reconnecting: return to == P::Connecting;
        case P::Draining: return to == P::Stopped;
        case P::Closing: return to == P::Stopped;
        case P::Stopped: return false;
    }
    return false;
}

}  // namespace raven::worker
