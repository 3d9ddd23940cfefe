// Liveness (issue 17 item 3/6): bytes arriving count as hearing from a worker (a long upload keeps
// it alive), a stall of the coordinator's own event loop lapses nobody, and the fleet's speed that
// every grant uses is kept as sessions change (LiveFleet) with the same answer as counting every
// session. Over real TLS WebSockets on loopback, the coordinator in this process.
#include <QtTest>

#include <QSslSocket>
#include <QThread>

#include <random>

#include "CoordinatorTestKit.h"
#include "coordinator/LiveFleet.h"
#include "protocol/Handshake.h"

using namespace raven;
using namespace raven::test;

namespace {

// A contributor that speaks the protocol by hand (TLS, the WebSocket upgrade, masked frames) so that
// it can write one message's bytes as slowly as it likes, as a worker on a slow link uploading a
// large result does. Everything waits with the event loop running: the coordinator is on this thread.
class SlowUploader {
public:
    bool open(const QUrl& url) {
        socket_.setPeerVerifyMode(QSslSocket::VerifyNone);  // the test pins nothing; tokens prove who we are
        socket_.connectToHostEncrypted(url.host(), static_cast<quint16>(url.port()));
        if (!QTest::qWaitFor([&] { return socket_.isEncrypted(); }, 5000)) return fail("no TLS: " + socket_.errorString());
        socket_.write("GET / HTTP/1.1\r\nHost: " + url.host().toUtf8() +
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        if (!QTest::qWaitFor([&] { return (in_ += socket_.readAll()).contains("\r\n\r\n"); }, 5000))
            return fail("no upgrade answer");
        if (!in_.startsWith("HTTP/1.1 101")) return fail("upgrade refused: " + QString::fromUtf8(in_.left(200)));
        in_ = in_.mid(in_.indexOf("\r\n\r\n") + 4);
        wire::Envelope hello;
        *hello.mutable_hello() =
            protocol::makeHello(protocol::PeerInfo{wire::ROLE_CONTRIBUTOR, {}, {}, QStringLiteral("slow uploader")});
        const wire::Envelope reply = call(hello);
        return reply.has_hello_reply() ? true : fail("no HelloReply: " + QString::fromStdString(text(reply)));
    }
    QString why;

    wire::Envelope call(wire::Envelope request) {
        request.set_request_id(++nextRequest_);
        socket_.write(frameHeader(static_cast<quint64>(request.ByteSizeLong())) +
                      QByteArray::fromStdString(request.SerializeAsString()));
        wire::Envelope answer;
        (void)QTest::qWaitFor([&] { return nextAnswer(answer) && answer.request_id() == request.request_id(); }, 5000);
        return answer;
    }

    // The header of a masked binary frame of `size` bytes (mask 0: the payload goes as it is), its
    // length in the shortest form (RFC 6455; Qt refuses longer ones).
    static QByteArray frameHeader(quint64 size) {
        QByteArray h;
        h.append(char(0x82));
        const int lengthBytes = size < 126 ? 0 : size <= 0xffff ? 2 : 8;
        h.append(char(0x80 | (lengthBytes == 0 ? size : lengthBytes == 2 ? 126 : 127)));
        for (int i = lengthBytes - 1; i >= 0; --i) h.append(char((size >> (8 * i)) & 0xff));
        h.append(QByteArray(4, '\0'));
        return h;
    }
    void write(const QByteArray& bytes) { socket_.write(bytes); }

private:
    bool fail(const QString& reason) {
        why = reason;
        return false;
    }
    // The next whole server frame (unmasked) as an envelope.
    bool nextAnswer(wire::Envelope& out) {
        in_ += socket_.readAll();
        if (in_.size() < 2) return false;
        quint64 size = static_cast<quint8>(in_[1]) & 0x7f;
        int at = 2;
        if (size == 126 || size == 127) {
            const int bytes = size == 126 ? 2 : 8;
            if (in_.size() < 2 + bytes) return false;
            size = 0;
            for (int i = 0; i < bytes; ++i) size = (size << 8) | static_cast<quint8>(in_[2 + i]);
            at += bytes;
        }
        if (static_cast<quint64>(in_.size()) < at + size) return false;
        const bool parsed = out.ParseFromArray(in_.constData() + at, static_cast<int>(size));
        in_ = in_.mid(at + static_cast<qsizetype>(size));
        return parsed;
    }

    QSslSocket socket_;
    QByteArray in_;
    std::uint64_t nextRequest_ = 0;
};

}  // namespace

class LivenessTest : public QObject {
    Q_OBJECT
private slots:
    void aWorkerUploadingALongMessageIsAlive() {
        Deployment d;
        d.options.leaseTimeoutMs = 600;
        d.start();
        auto requester = d.requester();
        d.submitJob(*requester, adamHyperparameters(1));
        SlowUploader worker;
        QVERIFY2(worker.open(d.coordinator->url()), qPrintable(worker.why));
        const std::string token = d.coordinator->addContributor(QStringLiteral("slow")).toStdString();
        QVERIFY(worker.call(authenticateWithToken(token)).auth_result().accepted());
        const wire::Envelope grant = worker.call(leaseRequest(1));
        QCOMPARE(grant.lease_grant().units_size(), 1);
        const ledger::WorkUnitId unit = std::stoll(grant.lease_grant().units(0).id());
        // One message of 128 KiB, of which 64 KiB are written 1 KiB every 50 ms: 3.2 s, over five
        // lease timeouts, and no whole message arrives meanwhile.
        worker.write(SlowUploader::frameHeader(128 * 1024));
        for (int i = 0; i < 64; ++i) {
            worker.write(QByteArray(1024, 'x'));
            QTest::qWait(50);
            QCOMPARE(d.coordinator->store().workUnit(unit)->state, ledger::WorkUnitState::Leased);
        }
        // The bytes stop (the message never completes): now it is silent, and its lease goes.
        QVERIFY(QTest::qWaitFor(
            [&] { return d.coordinator->store().workUnit(unit)->state == ledger::WorkUnitState::Pending; }, 5000));
    }

    void aStalledEventLoopLapsesNobody() {
        Deployment d;
        d.options.leaseTimeoutMs = 600;  // ticks every 150 ms
        d.options.heartbeatIntervalMs = 200;
        d.start();
        auto requester = d.requester();
        d.submitJob(*requester, adamHyperparameters(1));
        auto worker = d.contributor();
        const wire::Envelope grant = worker->call(leaseRequest(1));
        QCOMPARE(grant.lease_grant().units_size(), 1);
        const ledger::WorkUnitId unit = std::stoll(grant.lease_grant().units(0).id());
        wire::Envelope beat;
        beat.mutable_heartbeat()->set_sent_at_ms(1);
        QVERIFY(worker->call(beat).has_heartbeat_ack());
        // The coordinator's event loop (this thread) stalls for over twice the lease timeout: the
        // worker could not be heard, through no fault of its own.
        QThread::msleep(1500);
        // The first tick after the stall comes late and lapses nobody; the heartbeat is read after it.
        QVERIFY(worker->call(beat).has_heartbeat_ack());
        for (int i = 0; i < 4; ++i) {
            QTest::qWait(100);
            QVERIFY(worker->call(beat).has_heartbeat_ack());
        }
        QCOMPARE(d.coordinator->store().workUnit(unit)->state, ledger::WorkUnitState::Leased);
        // A worker that really falls silent (the loop running) still loses its lease.
        QVERIFY(QTest::qWaitFor(
            [&] { return d.coordinator->store().workUnit(unit)->state == ledger::WorkUnitState::Pending; }, 5000));
    }

    void theFleetsSpeedIsKeptAsSessionsChange() {
        // Random sessions of a few contributors come, change speed, lapse and go; after each change
        // the kept figures equal a count over every live session.
        coordinator::LiveFleet fleet;
        struct Live {
            ledger::ContributorId contributor;
            double weight;
        };
        std::map<std::uint64_t, Live> live;
        std::mt19937 random(11);
        for (int step = 0; step < 2000; ++step) {
            const std::uint64_t connection = random() % 30;
            if (random() % 3 == 0) {
                fleet.drop(connection);
                live.erase(connection);
            } else {
                const ledger::ContributorId contributor = 1 + random() % 6;
                const double weight = 0.5 + static_cast<double>(random() % 1000) / 7.0;
                fleet.set(connection, contributor, weight);
                live[connection] = {contributor, weight};
            }
            std::map<ledger::ContributorId, double> largest;
            for (const auto& [c, l] : live) largest[l.contributor] = std::max(largest[l.contributor], l.weight);
            double total = 0.0;
            for (const auto& [c, w] : largest) total += w;
            QVERIFY2(std::abs(fleet.totalWeight() - total) < 1e-6 * std::max(1.0, total),
                     qPrintable(QStringLiteral("step %1: %2 kept, %3 counted").arg(step).arg(fleet.totalWeight()).arg(total)));
            QCOMPARE(fleet.contributors(), static_cast<int>(largest.size()));
            for (ledger::ContributorId c = 1; c <= 6; ++c) {
                int others = 0;
                for (const auto& [id, l] : live) others += l.contributor == c && id != connection ? 1 : 0;
                QCOMPARE(fleet.onlineElsewhere(c, connection), others > 0);
            }
        }
    }
};

QTEST_GUILESS_MAIN(LivenessTest)
#include "tst_Liveness.moc"
