// The protocol's rules and codecs without sockets: framing bounds, version negotiation, the
// handshake decision, known-hosts pins, zstd, chunked contents and gradient encodings.
#include <QCryptographicHash>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "base/Error.h"
#include "protocol/Chunking.h"
#include "protocol/Compression.h"
#include "protocol/Framing.h"
#include "protocol/GradientCodec.h"
#include "protocol/Handshake.h"
#include "protocol/KnownHosts.h"
#include "protocol/Protocol.h"
#include "protocol/ServerIdentity.h"
#include "tensor/BlockInt8.h"

using namespace raven;
using namespace raven::protocol;

Q_DECLARE_METATYPE(raven::wire::GradientEncoding)

class ProtocolCodecsTest : public QObject {
    Q_OBJECT

private slots:
    // Contents are named by their SHA-256: the FIPS 180-2 vectors, and agreement with Qt's own
    // implementation on large contents of every length modulo the block size.
    void sha256OfContents() {
        QCOMPARE(sha256Hex(QByteArray()),
                 QStringLiteral("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        QCOMPARE(sha256Hex(QByteArray("abc")),
                 QStringLiteral("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QCOMPARE(sha256Hex(QByteArray("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
                 QStringLiteral("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
        std::mt19937 random(17);
        for (const int size : {1, 55, 56, 63, 64, 65, 940694, (1 << 20) + 3}) {
            QByteArray bytes(size, Qt::Uninitialized);
            for (char& c : bytes) c = static_cast<char>(random());
            QCOMPARE(sha256Hex(bytes),
                     QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex()));
        }
    }

    void framingRoundTrip() {
        wire::Envelope envelope;
        envelope.set_request_id(42);
        envelope.mutable_lease_request()->set_max_units(3);
        const DecodedFrame frame = decodeFrame(encodeFrame(envelope));
        QVERIFY(frame.ok);
        QCOMPARE(frame.envelope.request_id(), 42u);
        QCOMPARE(frame.envelope.lease_request().max_units(), 3u);
        QCOMPARE(payloadName(frame.envelope), QStringLiteral("lease_request"));
    }

    void framingRejectsBadInput_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("code");
        QTest::newRow("oversized") << QByteArray(kMaxMessageBytes + 1, '\0') << int(wire::ERROR_CODE_TOO_LARGE);
        QTest::newRow("not protobuf") << QByteArray("GET / HTTP/1.1") << int(wire::ERROR_CODE_MALFORMED);
        QTest::newRow("empty envelope") << QByteArray() << int(wire::ERROR_CODE_MALFORMED);
        QTest::newRow("request id only") << QByteArray("\x08\x05", 2) << int(wire::ERROR_CODE_MALFORMED);
    }
    void framingRejectsBadInput() {
        QFETCH(QByteArray, bytes);
        QFETCH(int, code);
        const DecodedFrame frame = decodeFrame(bytes);
        QVERIFY(!frame.ok);
        QCOMPARE(int(frame.error), code);
        QVERIFY(frame.reason.contains(QString::number(bytes.size())));
    }

    void encodingRefusesOversizedOrEmptyEnvelopes() {
        wire::Envelope empty;
        QVERIFY_THROWS_EXCEPTION(raven::Error, encodeFrame(empty));
        wire::Envelope big;
        big.mutable_upload_model_spec()->set_spec_json(std::string(kMaxMessageBytes, 'x'));
        QVERIFY_THROWS_EXCEPTION(raven::Error, encodeFrame(big));
    }

    void versionNegotiation_data() {
        QTest::addColumn<uint>("ourMin");
        QTest::addColumn<uint>("ourMax");
        QTest::addColumn<uint>("theirMin");
        QTest::addColumn<uint>("theirMax");
        QTest::addColumn<uint>("expected");  // 0 = incompatible
        QTest::newRow("same") << 1u << 1u << 1u << 1u << 1u;
        QTest::newRow("they are newer but accept ours") << 1u << 2u << 2u << 4u << 2u;
        QTest::newRow("we are newer") << 3u << 5u << 1u << 4u << 4u;
        QTest::newRow("disjoint, they are newer") << 1u << 2u << 3u << 4u << 0u;
        QTest::newRow("disjoint, they are older") << 3u << 4u << 1u << 2u << 0u;
        QTest::newRow("version zero") << 0u << 0u << 0u << 0u << 0u;
    }
    void versionNegotiation() {
        QFETCH(uint, ourMin);
        QFETCH(uint, ourMax);
        QFETCH(uint, theirMin);
        QFETCH(uint, theirMax);
        QFETCH(uint, expected);
        const auto negotiated = negotiateVersion({ourMin, ourMax}, {theirMin, theirMax});
        QCOMPARE(negotiated.value_or(0u), expected);
        QCOMPARE(negotiateVersion({theirMin, theirMax}, {ourMin, ourMax}).value_or(0u), expected);
    }

    void handshakeDecision() {
        const PeerInfo coordinator{wire::ROLE_COORDINATOR, {1, 2}, QStringLiteral("2.0.0"), {}};
        const PeerInfo worker{wire::ROLE_CONTRIBUTOR, {2, 3}, QStringLiteral("3.0.0"), {}};
        const wire::HelloReply accepted = answerHello(makeHello(worker), coordinator);
        QVERIFY(accepted.accepted());
        QCOMPARE(accepted.negotiated_version(), 2u);
        QCOMPARE(checkHelloReply(accepted, worker), QString());

        const PeerInfo oldWorker{wire::ROLE_CONTRIBUTOR, {0, 0}, QStringLiteral("0.0.1"), {}};
        const wire::HelloReply refused = answerHello(makeHello(oldWorker), coordinator);
        QVERIFY(!refused.accepted());
        const QString reason = QString::fromStdString(refused.reason());
        QVERIFY2(reason.contains(QStringLiteral("protocol version 2 (accepts 1..2)")), qPrintable(reason));
        QVERIFY2(reason.contains(QStringLiteral("protocol version 0")), qPrintable(reason));
        QVERIFY2(reason.contains(QStringLiteral("0.0.1")) && reason.contains(QStringLiteral("2.0.0")),
                 qPrintable(reason));
        QCOMPARE(checkHelloReply(refused, oldWorker), reason);

        const PeerInfo rogue{wire::ROLE_COORDINATOR, {}, {}, {}};
        QVERIFY(!answerHello(makeHello(rogue), coordinator).accepted());

        // A server that picks a version the client cannot speak is caught by the client.
        wire::HelloReply wrong = accepted;
        wrong.set_negotiated_version(7);
        QVERIFY(checkHelloReply(wrong, worker).contains(QStringLiteral("cannot speak")));
    }

    void knownHostsPins() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("sub/known_hosts"));
        KnownHosts hosts(path);
        QCOMPARE(hosts.check(QStringLiteral("a:1"), QStringLiteral("sha256:AA")).verdict,
                 KnownHosts::Verdict::FirstContact);
        hosts.pin(QStringLiteral("a:1"), QStringLiteral("sha256:AA"));
        hosts.pin(QStringLiteral("b:2"), QStringLiteral("sha256:BB"));
        QCOMPARE(hosts.check(QStringLiteral("a:1"), QStringLiteral("sha256:aa")).verdict, KnownHosts::Verdict::Trusted);
        const KnownHosts::Check changed = hosts.check(QStringLiteral("b:2"), QStringLiteral("sha256:CC"));
        QCOMPARE(changed.verdict, KnownHosts::Verdict::Changed);
        QCOMPARE(changed.pinned, QStringLiteral("sha256:BB"));
        hosts.pin(QStringLiteral("b:2"), QStringLiteral("sha256:CC"));  // replaces, keeps the others
        QCOMPARE(hosts.check(QStringLiteral("b:2"), QStringLiteral("sha256:CC")).verdict, KnownHosts::Verdict::Trusted);
        QCOMPARE(hosts.check(QStringLiteral("a:1"), QStringLiteral("sha256:AA")).verdict, KnownHosts::Verdict::Trusted);
        const QString message =
            hosts.changedMessage(QStringLiteral("b:2"), QStringLiteral("sha256:BB"), QStringLiteral("sha256:CC"));
        QVERIFY(message.contains(QStringLiteral("sha256:BB")) && message.contains(QStringLiteral("sha256:CC")));
        QVERIFY(message.contains(path));
    }

    void generatedCertificate() {
        const ServerIdentity identity = ServerIdentity::generate(QStringLiteral("raven-test"));
        QVERIFY(!identity.certificate.isNull());
        QVERIFY(!identity.privateKey.isNull());
        QCOMPARE(identity.privateKey.algorithm(), QSsl::Ec);
        QVERIFY(identity.certificate.isSelfSigned());
        QVERIFY(identity.certificate.expiryDate() > QDateTime::currentDateTimeUtc().addYears(10));
        const auto altNames = identity.certificate.subjectAlternativeNames();
        QVERIFY(altNames.values(QSsl::DnsEntry).contains(QStringLiteral("localhost")));
        QVERIFY(altNames.values(QSsl::IpAddressEntry).contains(QStringLiteral("127.0.0.1")));
        QVERIFY(identity.fingerprint().startsWith(QStringLiteral("sha256:")));
        QCOMPARE(identity.fingerprint().size(), 7 + 32 * 3 - 1);
        QVERIFY(identity.fingerprint() != ServerIdentity::generate(QStringLiteral("raven-test")).fingerprint());
    }

    void identityFilesMustComeInPairs() {
        QTemporaryDir dir;
        const ServerIdentity first = ServerIdentity::loadOrCreate(dir.path());
        QCOMPARE(ServerIdentity::loadOrCreate(dir.path()).fingerprint(), first.fingerprint());
        QVERIFY(QFile::remove(dir.filePath(QStringLiteral("tls/server.key"))));
        QVERIFY_THROWS_EXCEPTION(raven::Error, ServerIdentity::loadOrCreate(dir.path()));
    }

    void zstdRoundTripAndCorruption() {
        QByteArray raw;
        for (int i = 0; i < 10000; ++i) raw += QByteArray::number(i % 97) + ',';
        const QByteArray compressed = zstdCompress(raw);
        QVERIFY(compressed.size() < raw.size() / 4);
        QCOMPARE(zstdDecompress(compressed, raw.size()), raw);
        QVERIFY_THROWS_EXCEPTION(raven::Error, zstdDecompress(compressed, raw.size() + 1));
        QVERIFY_THROWS_EXCEPTION(raven::Error, zstdDecompress(compressed.left(compressed.size() / 2), raw.size()));
        QVERIFY_THROWS_EXCEPTION(raven::Error, zstdDecompress(QByteArray("not zstd at all"), 15));
    }

    void zstdIsUsedOnlyWhereItSavesATenth() {
        // Trained-weight-like floats (normal, small): zstd saves a few percent at most.
        std::mt19937 rng(7);
        std::normal_distribution<float> normal(0.0f, 0.05f);
        const auto floats = [&](int count) {
            QByteArray bytes(count * 4, Qt::Uninitialized);
            for (int i = 0; i < count; ++i) {
                const float v = normal(rng);
                std::memcpy(bytes.data() + 4 * i, &v, 4);
            }
            return bytes;
        };
        QVERIFY(!zstdIfItPays(floats(250000)).has_value());  // sampled: turned down
        QVERIFY(!zstdIfItPays(floats(2000)).has_value());    // small: tried whole
        // Text shrinks several-fold, large or small, and the frame is the content's.
        QByteArray text;
        for (int i = 0; i < 40000; ++i) text += QByteArray::number(i % 97) + ',';
        const std::optional<QByteArray> frame = zstdIfItPays(text);
        QVERIFY(frame.has_value());
        QCOMPARE(zstdDecompress(*frame, text.size()), text);
        QVERIFY(zstdIfItPays(text.left(3000)).has_value());
        // The samples decide for large contents: a compressible head does not carry floats.
        QVERIFY(!zstdIfItPays(text.left(4000) + floats(100000)).has_value());
        QVERIFY(!zstdIfItPays(QByteArray()).has_value());
    }

    void contentChunksRoundTrip_data() {
        QTest::addColumn<int>("size");
        QTest::addColumn<bool>("zstd");
        QTest::newRow("empty") << 0 << false;
        QTest::newRow("one chunk") << 1000 << true;
        QTest::newRow("exactly two chunks") << int(2 * kChunkBytes) << false;
        QTest::newRow("several, compressed") << int(3 * kChunkBytes + 17) << true;
    }
    void contentChunksRoundTrip() {
        QFETCH(int, size);
        QFETCH(bool, zstd);
        QByteArray raw(size, Qt::Uninitialized);
        QRandomGenerator random(7);
        for (char& c : raw) c = static_cast<char>(random.bounded(16));  // compressible, not trivially
        const auto chunks = splitContent(raw, zstd);
        const qsizetype travelling = zstd ? zstdCompress(raw).size() : raw.size();
        QCOMPARE(qsizetype(chunks.size()), std::max<qsizetype>(1, (travelling + kChunkBytes - 1) / kChunkBytes));
        ContentAssembler assembler;
        for (const auto& chunk : chunks) {
            QVERIFY(!assembler.complete());
            QVERIFY(static_cast<std::int64_t>(chunk.data().size()) <= kChunkBytes);
            assembler.add(chunk);
        }
        QVERIFY(assembler.complete());
        QCOMPARE(assembler.content(), raw);
        QCOMPARE(assembler.sha256(), sha256Hex(raw));
    }

    void contentAssemblerRejectsInconsistentChunks() {
        QByteArray raw(int(2 * kChunkBytes + 5), 'r');
        auto chunks = splitContent(raw, false);
        QCOMPARE(chunks.size(), size_t(3));
        {
            ContentAssembler assembler;  // out of order
            assembler.add(chunks[0]);
            QVERIFY_THROWS_EXCEPTION(raven::Error, assembler.add(chunks[2]));
        }
        {
            ContentAssembler assembler;  // corrupted bytes: the hash catches it
            chunks[1].mutable_data()->at(3) = 'X';
            for (int i = 0; i < 2; ++i) assembler.add(chunks[size_t(i)]);
            QVERIFY_THROWS_EXCEPTION(raven::Error, assembler.add(chunks[2]));
            QVERIFY(!assembler.complete());
        }
        {
            ContentAssembler assembler(1000);  // above the receiver's bound
            QVERIFY_THROWS_EXCEPTION(raven::Error, assembler.add(chunks[0]));
        }
    }

    void aContentWithoutItsHashIsTakenOnlyWhereTheChannelVouches() {
        QByteArray raw(int(2 * kChunkBytes + 5), 'w');
        auto chunks = splitContent(raw, false);
        for (auto& chunk : chunks) chunk.clear_content_sha256();
        {
            ContentAssembler assembler;  // a fetch: refused at the first chunk
            QVERIFY_THROWS_EXCEPTION(raven::Error, assembler.add(chunks[0]));
        }
        {
            ContentAssembler assembler(1ull << 32, ContentAssembler::Unhashed::Taken);  // weights in a grant
            for (const auto& chunk : chunks) assembler.add(chunk);
            QVERIFY(assembler.complete());
            QCOMPARE(assembler.content(), raw);
        }
        {
            // Where unhashed contents are taken, one that announces a hash is still held to it.
            auto hashed = splitContent(raw, false);
            hashed[2].mutable_data()->at(0) = 'X';
            ContentAssembler assembler(1ull << 32, ContentAssembler::Unhashed::Taken);
            for (int i = 0; i < 2; ++i) assembler.add(hashed[size_t(i)]);
            QVERIFY_THROWS_EXCEPTION(raven::Error, assembler.add(hashed[2]));
            QVERIFY(!assembler.complete());
        }
    }

    void aResultWithoutItsHashIsTakenOnlyByACoordinatorThatSaysSo() {
        WorkResult result;
        result.workUnitId = "wu-5";
        result.sampleCount = 8;
        result.gradient.resize(300000);
        for (size_t i = 0; i < result.gradient.size(); ++i) result.gradient[i] = float(i % 97) * 0.25f - 3.0f;
        const auto parts = makeSubmitResults(result, wire::GRADIENT_ENCODING_FP32, false, 0, false);
        QVERIFY(parts.size() > 1);
        for (const auto& part : parts) QVERIFY(part.gradient().content().content_sha256().empty());
        {
            ResultAssembler assembler(result.gradient.size());  // a coordinator that wants the hash
            QVERIFY_THROWS_EXCEPTION(raven::Error, assembler.add(parts[0]));
        }
        ResultAssembler assembler(result.gradient.size(), ContentAssembler::Unhashed::Taken);
        for (const auto& part : parts) assembler.add(part);
        QVERIFY(assembler.complete());
        QVERIFY(assembler.sha256().isEmpty());
        QCOMPARE(assembler.result().gradient, result.gradient);
        // Hashed results still assemble there, and a corrupted hashed one is still caught.
        auto hashed = makeSubmitResults(result, wire::GRADIENT_ENCODING_FP32, false);
        ResultAssembler taken(result.gradient.size(), ContentAssembler::Unhashed::Taken);
        for (const auto& part : hashed) taken.add(part);
        QCOMPARE(taken.sha256(), QString::fromStdString(hashed[0].gradient().content().content_sha256()));
        hashed.back().mutable_gradient()->mutable_content()->mutable_data()->at(0) ^= 1;
        ResultAssembler caught(result.gradient.size(), ContentAssembler::Unhashed::Taken);
        for (size_t i = 0; i + 1 < hashed.size(); ++i) caught.add(hashed[i]);
        QVERIFY_THROWS_EXCEPTION(raven::Error, caught.add(hashed.back()));
    }

    void compressedContentCannotAnnounceMoreThanItsRawSize() {
        // A small raw size with a huge "compressed" size: refused before anything is reserved.
        auto chunks = splitContent(QByteArray(100, 'z'), true);
        chunks[0].set_total_bytes(1ull << 40);
        ContentAssembler assembler;
        QVERIFY_THROWS_EXCEPTION(raven::Error, assembler.add(chunks[0]));
        // Honest compressed content of every size still assembles.
        for (const int size : {0, 1, 1000, int(kChunkBytes) * 2 + 7}) {
            QByteArray random(size, Qt::Uninitialized);
            for (char& c : random) c = static_cast<char>(QRandomGenerator::global()->generate());
            ContentAssembler honest;
            for (const auto& chunk : splitContent(random, true)) honest.add(chunk);
            QVERIFY(honest.complete());
            QCOMPARE(honest.content(), random);
        }
    }

    void zstdFramesMustDeclareTheirSize() {
        // A valid, empty zstd frame whose header leaves the content size out (FHD = 0, window byte,
        // one empty raw last block): decoding it must not size a buffer from the announcement.
        const QByteArray unsized("\x28\xB5\x2F\xFD\x00\x00\x01\x00\x00", 9);
        QVERIFY_THROWS_EXCEPTION(raven::Error, zstdDecompress(unsized, 1ull << 40));
        QCOMPARE(zstdDecompress(zstdCompress(QByteArray("abc")), 3), QByteArray("abc"));
    }

    void bytesEchoedToPeersAreBounded() {
        const wire::Envelope error =
            makeError(wire::ERROR_CODE_INVALID_ARGUMENT, QString(100000, 'm'), QString(100000, 'h'));
        QVERIFY(error.error().message().size() < 2 * 2048);
        QVERIFY(error.error().hint().size() < 2 * 2048);
        wire::Hello hello = makeHello(PeerInfo{wire::ROLE_CONTRIBUTOR, {}, {}, QStringLiteral("x")});
        hello.set_protocol_version(99);
        hello.set_min_protocol_version(99);
        hello.set_software_version(std::string(9 << 20, 'v'));  // bigger than a frame
        const wire::HelloReply reply =
            answerHello(hello, PeerInfo{wire::ROLE_COORDINATOR, {}, {}, QStringLiteral("c")});
        QVERIFY(!reply.accepted());
        QVERIFY(reply.reason().size() < 1024);
    }

    void gradientEncodingRoundTrip_data() {
        QTest::addColumn<wire::GradientEncoding>("encoding");
        QTest::addColumn<bool>("zstd");
        QTest::addColumn<double>("relativeTolerance");
        QTest::addColumn<int>("bytesPerElement");
        for (bool zstd : {false, true}) {
            const char* z = zstd ? " + zstd" : "";
            QTest::addRow("fp32%s", z) << wire::GRADIENT_ENCODING_FP32 << zstd << 0.0 << 4;
            QTest::addRow("fp16%s", z) << wire::GRADIENT_ENCODING_FP16 << zstd << std::ldexp(1.0, -11) << 2;
            QTest::addRow("bf16%s", z) << wire::GRADIENT_ENCODING_BF16 << zstd << std::ldexp(1.0, -8) << 2;
        }
    }
    void gradientEncodingRoundTrip() {
        QFETCH(wire::GradientEncoding, encoding);
        QFETCH(bool, zstd);
        QFETCH(double, relativeTolerance);
        QFETCH(int, bytesPerElement);
        // 600k values (the size of a small CNN): big enough that fp32 spans several chunks.
        WorkResult result;
        result.workUnitId = "wu-17";
        result.sampleCount = 32;
        result.loss = 71.25;
        result.correct = 29;
        std::mt19937 generator(3);
        std::normal_distribution<float> normal(0.0f, 0.02f);
        result.gradient.resize(600000);
        for (float& g : result.gradient) g = normal(generator);
        result.gradient[0] = 0.0f;
        result.gradient[1] = -1234.5f;

        QCOMPARE(gradientElementBytes(encoding), size_t(bytesPerElement));
        const auto parts = makeSubmitResults(result, encoding, zstd);
        const std::int64_t encodedBytes = std::int64_t(result.gradient.size()) * bytesPerElement;
        if (!zstd) QCOMPARE(std::int64_t(parts.size()), (encodedBytes + kChunkBytes - 1) / kChunkBytes);
        ResultAssembler assembler(result.gradient.size());
        for (const auto& part : parts) {
            wire::Envelope envelope;
            *envelope.mutable_submit_result() = part;
            const DecodedFrame frame = decodeFrame(encodeFrame(envelope));  // as it travels
            QVERIFY(frame.ok);
            assembler.add(frame.envelope.submit_result());
        }
        QVERIFY(assembler.complete());
        const WorkResult& decoded = assembler.result();
        QCOMPARE(decoded.workUnitId, result.workUnitId);
        QCOMPARE(decoded.sampleCount, result.sampleCount);
        QCOMPARE(decoded.loss, result.loss);
        QCOMPARE(decoded.correct, result.correct);
        QCOMPARE(decoded.gradient.size(), result.gradient.size());
        // fp16 values below its normal range (6.1e-5) keep an absolute step of 6e-8.
        const double absoluteTolerance = encoding == wire::GRADIENT_ENCODING_FP16 ? 6e-8 : 0.0;
        double worst = 0.0;
        for (size_t i = 0; i < result.gradient.size(); ++i) {
            const double expected = result.gradient[i];
            const double error = std::abs(double(decoded.gradient[i]) - expected);
            worst = std::max(worst, error / (absoluteTolerance + relativeTolerance * std::abs(expected) + 1e-300));
            if (error > absoluteTolerance + relativeTolerance * std::abs(expected))
                QFAIL(qPrintable(
                    QStringLiteral("element %1: %2 decoded as %3").arg(i).arg(expected).arg(decoded.gradient[i])));
        }
        if (encoding != wire::GRADIENT_ENCODING_FP32) QVERIFY2(worst > 0.1, "the encoding does round");
    }

    // 8-bit updates travel as every encoding does (chunks, zstd, frames) and arrive as the decoding of
    // the bytes the unit's key gives; the key is a function of the unit's place in its job.
    void int8UpdateOverTheWire() {
        wire::WorkUnit unit;
        unit.set_id("41");
        unit.set_job_id("7");
        unit.set_model_version(12);
        unit.set_model_spec_sha256(std::string(64, 'a'));
        for (const char* shard : {"0f", "1e", "2d"}) unit.add_shard_hashes(std::string(62, 'c') + shard);
        const std::uint64_t key = unitRoundingKey(unit);
        // The same unit under other row ids (re-issued, another run of the job) rounds the same way;
        // another version, another shard or another order does not.
        wire::WorkUnit again = unit;
        again.set_id("9041");
        again.set_job_id("77");
        QCOMPARE(unitRoundingKey(again), key);
        wire::WorkUnit later = unit;
        later.set_model_version(13);
        QVERIFY(unitRoundingKey(later) != key);
        wire::WorkUnit swapped = unit;
        swapped.mutable_shard_hashes()->SwapElements(0, 1);
        QVERIFY(unitRoundingKey(swapped) != key);
        wire::WorkUnit otherSpec = unit;
        otherSpec.set_model_spec_sha256(std::string(64, 'b'));
        QVERIFY(unitRoundingKey(otherSpec) != key);

        for (bool zstd : {false, true}) {
            WorkResult result;
            result.workUnitId = unit.id();
            result.sampleCount = 96;
            result.loss = 3.5;
            std::mt19937 generator(5);
            std::normal_distribution<float> normal(0.0f, 0.02f);
            result.gradient.resize(3'000'001);  // several chunks, a partial last block
            for (float& g : result.gradient) g = normal(generator);
            const std::vector<std::byte> expected = encodeBlockInt8(result.gradient, key);
            QCOMPARE(encodedGradientBytes(wire::GRADIENT_ENCODING_INT8_BLOCK, result.gradient.size()),
                     std::uint64_t(expected.size()));
            const auto parts = makeSubmitResults(result, wire::GRADIENT_ENCODING_INT8_BLOCK, zstd, key);
            if (!zstd)
                QCOMPARE(std::int64_t(parts.size()), (std::int64_t(expected.size()) + kChunkBytes - 1) / kChunkBytes);
            ResultAssembler assembler(result.gradient.size());
            for (const auto& part : parts) {
                wire::Envelope envelope;
                *envelope.mutable_submit_result() = part;
                const DecodedFrame frame = decodeFrame(encodeFrame(envelope));
                QVERIFY(frame.ok);
                assembler.add(frame.envelope.submit_result());
            }
            QVERIFY(assembler.complete());
            QCOMPARE(assembler.sha256(),
                     sha256Hex(QByteArray(reinterpret_cast<const char*>(expected.data()), qsizetype(expected.size()))));
            QVERIFY(assembler.result().gradient == decodeBlockInt8(expected, result.gradient.size()));
            QVERIFY(assembler.result().gradient ==
                    roundTripGradient(result.gradient, wire::GRADIENT_ENCODING_INT8_BLOCK, key));
        }

        // Small models: 3 values take 7 bytes as int8 blocks, 1 value 5 bytes, more than its 4 of fp32
        // (the assembler's bound on a result's bytes covers both).
        WorkResult tiny;
        tiny.workUnitId = "1";
        tiny.gradient = {0.5f, -1.0f, 0.25f};
        ResultAssembler small(3);
        for (const auto& part : makeSubmitResults(tiny, wire::GRADIENT_ENCODING_INT8_BLOCK, false, key))
            small.add(part);
        QVERIFY(small.complete());
        QCOMPARE(small.result().gradient[1], -1.0f);  // the block's absmax is exact: 127 steps
        WorkResult one;
        one.workUnitId = "2";
        one.gradient = {2.0f};
        ResultAssembler single(1);  // 5 bytes of int8 for 4 of fp32
        for (const auto& part : makeSubmitResults(one, wire::GRADIENT_ENCODING_INT8_BLOCK, true, key)) single.add(part);
        QCOMPARE(single.result().gradient, std::vector<float>{2.0f});

        // A hostile payload (a NaN scale) is refused with raven::Error, not summed.
        QByteArray bytes = encodeGradientValues({1.0f, 2.0f, 3.0f}, wire::GRADIENT_ENCODING_INT8_BLOCK, key);
        const float nan = std::numeric_limits<float>::quiet_NaN();
        std::memcpy(bytes.data(), &nan, sizeof nan);
        wire::SubmitResult forged;
        forged.set_work_unit_id("3");
        forged.mutable_gradient()->set_encoding(wire::GRADIENT_ENCODING_INT8_BLOCK);
        forged.mutable_gradient()->set_element_count(3);
        *forged.mutable_gradient()->mutable_content() = splitContent(bytes, false).front();
        ResultAssembler victim(3);
        QVERIFY_THROWS_EXCEPTION(raven::Error, victim.add(forged));
        // And an update that is not finite cannot be encoded (the worker hands the unit back).
        WorkResult diverged = tiny;
        diverged.gradient[2] = std::numeric_limits<float>::infinity();
        QVERIFY_THROWS_EXCEPTION(raven::Error,
                                 makeSubmitResults(diverged, wire::GRADIENT_ENCODING_INT8_BLOCK, false, key));
    }

    // The coordinator decodes into the memory of a gradient it has summed (GradientBuffers): every
    // value is overwritten, so the result has the bits of a decode into fresh memory, in every encoding.
    void decodingIntoKeptMemoryGivesTheSameBits() {
        std::mt19937 generator(5);
        std::normal_distribution<float> normal(0.0f, 0.02f);
        std::vector<float> gradient(70'001);  // not a whole number of int8 blocks
        for (float& g : gradient) g = normal(generator);
        for (const wire::GradientEncoding encoding :
             {wire::GRADIENT_ENCODING_FP32, wire::GRADIENT_ENCODING_FP16, wire::GRADIENT_ENCODING_BF16,
              wire::GRADIENT_ENCODING_INT8_BLOCK}) {
            const QByteArray bytes = encodeGradientValues(gradient, encoding, 77);
            const std::vector<float> fresh = decodeGradientValues(bytes, encoding, gradient.size());
            std::vector<float> kept(gradient.size(), std::numeric_limits<float>::quiet_NaN());  // a used buffer
            decodeGradientValuesInto(bytes, encoding, kept);
            QVERIFY2(std::memcmp(kept.data(), fresh.data(), fresh.size() * sizeof(float)) == 0,
                     qPrintable(QStringLiteral("encoding %1").arg(int(encoding))));
            // A payload of the wrong size is refused into kept memory too.
            std::vector<float> shorter(gradient.size() - 1);
            QVERIFY_THROWS_EXCEPTION(raven::Error, decodeGradientValuesInto(bytes, encoding, shorter));
        }
        // Through the assembler: the buffer given is the one the result holds, and one of another
        // size is not used.
        WorkResult result;
        result.workUnitId = "wu-9";
        result.gradient = gradient;
        for (const bool rightSize : {true, false}) {
            ResultAssembler assembler(gradient.size());
            for (const auto& part : makeSubmitResults(result, wire::GRADIENT_ENCODING_FP32, false)) assembler.addPart(part);
            std::vector<float> buffer(rightSize ? gradient.size() : 10, -1.0f);
            const float* memory = buffer.data();
            assembler.finish(std::move(buffer));
            QVERIFY(assembler.complete());
            QCOMPARE(assembler.result().gradient.data() == memory, rightSize);
            QVERIFY(assembler.result().gradient == gradient);
        }
    }

    void resultAssemblerRejectsWrongSize() {
        WorkResult result;
        result.workUnitId = "wu-1";
        result.gradient = {1.0f, 2.0f, 3.0f};
        const auto parts = makeSubmitResults(result, wire::GRADIENT_ENCODING_FP16, false);
        ResultAssembler assembler(4);
        QVERIFY_THROWS_EXCEPTION(raven::Error, assembler.add(parts.front()));
        wire::SubmitResult unknown = parts.front();
        unknown.mutable_gradient()->set_encoding(wire::GRADIENT_ENCODING_UNSPECIFIED);
        ResultAssembler assembler3(3);
        QVERIFY_THROWS_EXCEPTION(raven::Error, assembler3.add(unknown));
    }
};

QTEST_GUILESS_MAIN(ProtocolCodecsTest)
#include "tst_ProtocolCodecs.moc"
