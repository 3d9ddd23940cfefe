// WorkerPhase: the worker session's one state and its transitions (the table in WorkerPhase.h). The
// phases a real worker goes through are checked against the same table in worker_session.
#include <QTest>

#include "worker/WorkerPhase.h"

using namespace raven::worker;
using P = WorkerPhase;

class TestWorkerPhase : public QObject {
    Q_OBJECT

    static QList<P> all() {
        return {P::Idle,       P::Connecting,   P::Authenticating, P::AwaitingDevice, P::Registering,
                P::Registered, P::Reconnecting, P::Draining,       P::Closing,        P::Stopped};
    }

private slots:
    void theSessionsPathsAreAllowed() {
        // A token: connect, authenticate, register (the benchmark done or not yet), work, stop.
        const QList<QList<P>> paths = {
            {P::Idle, P::Connecting, P::Authenticating, P::Registering, P::Registered, P::Draining, P::Closing,
             P::Stopped},
            {P::Idle, P::Connecting, P::Authenticating, P::AwaitingDevice, P::Registering, P::Registered},
            // Open enrollment: register without authenticating.
            {P::Idle, P::Connecting, P::Registering, P::Registered},
            {P::Idle, P::Connecting, P::AwaitingDevice, P::Registering},
            // Lost connections, at any point of a session, come back.
            {P::Registered, P::Reconnecting, P::Connecting, P::Reconnecting, P::Connecting, P::Authenticating,
             P::Reconnecting},
            {P::AwaitingDevice, P::Reconnecting}, {P::Registering, P::Reconnecting},
            // Stopping or giving up from anywhere before stopped.
            {P::Idle, P::Closing, P::Stopped}, {P::Reconnecting, P::Closing, P::Stopped},
            {P::Authenticating, P::Closing}, {P::Registered, P::Closing},
            // The connection lost while draining: stopped at once.
            {P::Draining, P::Stopped}};
        for (const QList<P>& path : paths)
            for (qsizetype i = 1; i < path.size(); ++i)
                QVERIFY2(canMove(path[i - 1], path[i]),
                         qPrintable(nameOf(path[i - 1]) + " -> " + nameOf(path[i])));
    }

    void shortcutsAreNot() {
        const QList<QPair<P, P>> refused = {
            {P::Idle, P::Registered},         {P::Connecting, P::Registered},   {P::Authenticating, P::Registered},
            {P::Registered, P::Registering},  {P::Reconnecting, P::Registered}, {P::Registered, P::Stopped},
            {P::Idle, P::Stopped},            {P::Draining, P::Registered},     {P::Closing, P::Draining},
            {P::Closing, P::Connecting},      {P::Reconnecting, P::Draining},   {P::Idle, P::Reconnecting}};
        for (const auto& [from, to] : refused)
            QVERIFY2(!canMove(from, to), qPrintable(nameOf(from) + " -> " + nameOf(to)));
    }

    void stoppedIsTerminal() {
        for (P to : all())
            if (to != P::Stopped) QVERIFY2(!canMove(P::Stopped, to), qPrintable(nameOf(to)));
        QVERIFY(canMove(P::Stopped, P::Stopped));
    }

    void stoppingPhasesTakeNoWork() {
        for (P p : all()) {
            const bool stopping = p == P::Draining || p == P::Closing || p == P::Stopped;
            QCOMPARE(isStopping(p), stopping);
            QCOMPARE(isRegistered(p), p == P::Registered || p == P::Draining);
            const bool open = p != P::Idle && p != P::Reconnecting && p != P::Closing && p != P::Stopped;
            QCOMPARE(holdsConnection(p), open);
            QVERIFY(!nameOf(p).isEmpty());
            QVERIFY(nameOf(p) != QStringLiteral("unknown"));
        }
    }
};

QTEST_GUILESS_MAIN(TestWorkerPhase)
#include "tst_WorkerPhase.moc"
