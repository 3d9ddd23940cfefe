// What the CPU kernels promise beyond their numbers: bad shapes are raven::Errors that say what is wrong,
// results are bit-identical whatever the threads, and dropout's counter-based generator is Philox4x32-10
// with the right keep rate, scale and offsets.
#include <QTest>

#include <cstring>

#include "base/Error.h"
#include "cpu/kernels/Kernels.h"
#include "cpu_kernels/KernelTestUtils.h"

using namespace raven::cpu::kernels;
using raven::test::randomBuffer;

namespace {

// Runs compute(parallel) serially, on 3 threads and item by item in reverse; all must agree bit for bit.
bool sameOnEverySchedule(const std::function<std::vector<float>(const ParallelFor&)>& compute) {
    const std::vector<float> serial = compute({});
    for (const ParallelFor& parallel : {raven::test::threadedFor(3), raven::test::reversedItemsFor()}) {
        const std::vector<float> other = compute(parallel);
        if (other.size() != serial.size() ||
            std::memcmp(other.data(), serial.data(), serial.size() * sizeof(float)) != 0)
            return false;
    }
    return true;
}

template <class V>
void append(std::vector<float>& all, const V& part) {
    all.insert(all.end(), part.begin(), part.end());
}

}  // namespace

class KernelContracts : public QObject {
    Q_OBJECT

private slots:
    void badShapesAreClearErrors_data() {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("expected");
        QTest::newRow("conv groups") << 0 << "must both be divisible by groups (4)";
        QTest::newRow("conv kernel too large") << 1 << "is larger than the padded input (4x4)";
        QTest::newRow("conv zero stride") << 2 << "strideW is 0, it must be at least 1";
        QTest::newRow("pool padding") << 3 << "is more than half the kernel";
        QTest::newRow("embedding index") << 4 << "index 12 at position 2 is outside the vocabulary of 10 entries";
        QTest::newRow("embedding negative index") << 5 << "index -1 at position 0 is outside the vocabulary";
        QTest::newRow("batch norm single value") << 6 << "training needs more than one value per channel";
        QTest::newRow("dropout probability") << 7 << "probability 1.500000 is outside [0, 1]";
        QTest::newRow("attention length") << 8 << "keyLength is 0";
        QTest::newRow("layer norm features") << 9 << "features is 0";
    }
    void badShapesAreClearErrors() {
        QFETCH(int, which);
        QFETCH(QString, expected);
        std::vector<float> buffer(4096, 0.5f);
        float* f = buffer.data();
        std::vector<int64_t> indices{1, 3, 12, 0};
        std::vector<int64_t> argmax(64);
        try {
            switch (which) {
                case 0:
                    conv2d_forward({.inChannels = 6, .height = 3, .width = 3, .outChannels = 4, .groups = 4}, f, f, f,
                                   f);
                    break;
                case 1:
                    conv2d_backward({.height = 2, .width = 2, .kernelH = 5, .kernelW = 5, .padH = 1, .padW = 1}, f, f,
                                    f, f, f, f);
                    break;
                case 2:
                    conv2d_forward({.height = 3, .width = 3, .strideW = 0}, f, f, nullptr, f);
                    break;
                case 3:
                    max_pool2d_forward({.height = 4, .width = 4, .kernelH = 2, .kernelW = 2, .padH = 2}, f, f,
                                       argmax.data());
                    break;
                case 4:
                    embedding_forward({.vocabulary = 10, .dim = 2, .count = 4}, indices.data(), f, f);
                    break;
                case 5:
                    indices[0] = -1;
                    embedding_backward({.vocabulary = 10, .dim = 2, .count = 1}, indices.data(), f, f);
                    break;
                case 6:
                    batch_norm_forward({.batch = 1, .channels = 3, .spatial = 1}, true, f, f, f, f, f, f, f, f);
                    break;
                case 7:
                    dropout_forward({.count = 4, .p = 1.5f}, f, f);
                    break;
                case 8:
                    attention_forward({.keyLength = 0}, f, f, f, f, f);
                    break;
                case 9:
                    layer_norm_forward({.rows = 2, .features = 0}, f, f, f, f, f, f);
                    break;
            }
        } catch (const raven::Error& error) {
            QVERIFY2(QString::fromStdString(error.message()).contains(expected), error.what());
            QVERIFY2(!error.hint().empty(), "every kernel error carries a hint");
            return;
        }
        QFAIL("no raven::Error was thrown");
    }

    void resultsDoNotDependOnThreads() {
        const Conv2dShape conv{.batch = 37,
                               .inChannels = 4,
                               .height = 9,
                               .width = 8,
                               .outChannels = 6,
                               .kernelH = 3,
                               .kernelW = 3,
                               .strideH = 2,
                               .padH = 1,
                               .padW = 1,
                               .groups = 2};
        const auto x = randomBuffer(size_t(conv.batch * conv.inChannels * conv.height * conv.width), 1);
        const auto w = randomBuffer(size_t(conv.outChannels * 2 * 9), 2);
        const auto b = randomBuffer(size_t(conv.outChannels), 3);
        const auto dy = randomBuffer(size_t(conv.batch * conv.outChannels * conv.outH() * conv.outW()), 4);
        QVERIFY(sameOnEverySchedule([&](const ParallelFor& p) {
            std::vector<float> y(dy.size()), dx(x.size()), dw(w.size()), db(b.size()), all;
            conv2d_forward(conv, x.data(), w.data(), b.data(), y.data(), p);
            conv2d_backward(conv, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), p);
            for (const auto* part : {&y, &dx, &dw, &db}) append(all, *part);
            return all;
        }));

        const Pool2dShape pool{
            .batch = 3, .channels = 5, .height = 7, .width = 7, .kernelH = 3, .kernelW = 3, .padH = 1, .padW = 1};
        const auto px = randomBuffer(size_t(3 * 5 * 49), 5);
        const auto pdy = randomBuffer(size_t(3 * 5 * pool.outH() * pool.outW()), 6);
        QVERIFY(sameOnEverySchedule([&](const ParallelFor& p) {
            std::vector<float> y(pdy.size()), dx(px.size()), all;
            std::vector<int64_t> argmax(pdy.size());
            max_pool2d_forward(pool, px.data(), y.data(), argmax.data(), p);
            max_pool2d_backward(pool, argmax.data(), pdy.data(), dx.data(), p);
            append(all, y);
            append(all, dx);
            avg_pool2d_forward(pool, px.data(), y.data(), true, p);
            avg_pool2d_backward(pool, pdy.data(), dx.data(), true, p);
            append(all, y);
            append(all, dx);
            return all;
        }));

        const LayerNormShape ln{.rows = 13, .features = 600};
        const auto lx = randomBuffer(size_t(13 * 600), 7), ldy = randomBuffer(size_t(13 * 600), 8);
        const auto lw = randomBuffer(600, 9), lb = randomBuffer(600, 10);
        QVERIFY(sameOnEverySchedule([&](const ParallelFor& p) {
            std::vector<float> y(lx.size()), dx(lx.size()), dw(600), db(600), mean(13), rstd(13), all;
            layer_norm_forward(ln, lx.data(), lw.data(), lb.data(), y.data(), mean.data(), rstd.data(), p);
            layer_norm_backward(ln, lx.data(), lw.data(), mean.data(), rstd.data(), ldy.data(), dx.data(), dw.data(),
                                db.data(), p);
            for (const auto* part : {&y, &dx, &dw, &db}) append(all, *part);
            return all;
        }));

        const BatchNormShape bn{.batch = 6, .channels = 7, .spatial = 10};
        const auto bx = randomBuffer(420, 11), bdy = randomBuffer(420, 12);
        QVERIFY(sameOnEverySchedule([&](const ParallelFor& p) {
            std::vector<float> y(420), dx(420), dw(7), db(7), mean(7), invstd(7), rm(7, 0.0f), rv(7, 1.0f), all;
            batch_norm_forward(bn, true, bx.data(), nullptr, nullptr, rm.data(), rv.data(), y.data(), mean.data(),
                               invstd.data(), p);
            batch_norm_backward(bn, true, bx.data(), nullptr, mean.data(), invstd.data(), bdy.data(), dx.data(),
                                dw.data(), db.data(), p);
            for (const auto* part : {&y, &dx, &dw, &db, &rm, &rv}) append(all, *part);
            return all;
        }));

        const EmbeddingShape em{.vocabulary = 9, .dim = 200, .count = 50};
        std::vector<int64_t> indices(50);
        for (size_t i = 0; i < indices.size(); ++i) indices[i] = int64_t((i * 7) % 9);
        const auto ew = randomBuffer(1800, 13), edy = randomBuffer(50 * 200, 14);
        QVERIFY(sameOnEverySchedule([&](const ParallelFor& p) {
            std::vector<float> y(edy.size()), dw(ew.size()), all;
            embedding_forward(em, indices.data(), ew.data(), y.data(), p);
            embedding_backward(em, indices.data(), edy.data(), dw.data(), p);
            append(all, y);
            append(all, dw);
            return all;
        }));

        const DropoutShape dr{.count = 10000, .p = 0.25f, .seed = 7, .offset = 3};
        const auto dx0 = randomBuffer(10000, 15);
        QVERIFY(sameOnEverySchedule([&](const ParallelFor& p) {
            std::vector<float> y(dx0.size());
            dropout_forward(dr, dx0.data(), y.data(), p);
            return y;
        }));

        const AttentionShape at{
            .batch = 2, .heads = 3, .queryLength = 6, .keyLength = 6, .headDim = 4, .valueDim = 4, .causal = true};
        const auto q = randomBuffer(144, 16), k = randomBuffer(144, 17), v = randomBuffer(144, 18),
                   ady = randomBuffer(144, 19);
        QVERIFY(sameOnEverySchedule([&](const ParallelFor& p) {
            std::vector<float> out(144), probs(216), dq(144), dk(144), dv(144), all;
            attention_forward(at, q.data(), k.data(), v.data(), out.data(), probs.data(), p);
            attention_backward(at, q.data(), k.data(), v.data(), probs.data(), ady.data(), dq.data(), dk.data(),
                               dv.data(), p);
            for (const auto* part : {&out, &probs, &dq, &dk, &dv}) append(all, *part);
            return all;
        }));
    }

    void philoxMatchesRandom123KnownAnswers() {
        // Random123's kat_vectors for philox4x32_10.
        QCOMPARE(philox4x32_10({0u, 0u, 0u, 0u}, {0u, 0u}),
                 (PhiloxBlock{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
        QCOMPARE(philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}),
                 (PhiloxBlock{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
        QCOMPARE(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u}),
                 (PhiloxBlock{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
    }

    void dropoutKeepsOneMinusPAndScales() {
        const int64_t count = 200000;
        const std::vector<float> x(size_t(count), 2.0f);
        std::vector<float> y(x.size());
        for (float p : {0.1f, 0.5f, 0.9f}) {
            dropout_forward({.count = count, .p = p, .seed = 1234}, x.data(), y.data());
            int64_t kept = 0;
            for (float v : y) {
                QVERIFY(v == 0.0f || v == 2.0f / (1.0f - p));
                kept += v != 0.0f;
            }
            const double rate = double(kept) / double(count), expected = 1.0 - p;
            // 5 standard deviations of a binomial proportion: fails by chance about once in 3 million.
            QVERIFY2(std::abs(rate - expected) < 5.0 * std::sqrt(expected * p / double(count)),
                     qPrintable(QString("p %1: kept %2").arg(double(p)).arg(rate)));
        }
        dropout_forward({.count = count, .p = 0.0f, .seed = 1}, x.data(), y.data());
        QVERIFY(y == x);
        dropout_forward({.count = count, .p = 1.0f, .seed = 1}, x.data(), y.data());
        QVERIFY(std::all_of(y.begin(), y.end(), [](float v) { return v == 0.0f; }));
    }

    void dropoutMaskIsAFunctionOfSeedAndPosition() {
        const auto x = randomBuffer(1001, 20);
        std::vector<float> whole(x.size()), pieces(x.size()), otherSeed(x.size()), dx(x.size());
        dropout_forward({.count = 1001, .p = 0.5f, .seed = 99, .offset = 17}, x.data(), whole.data());
        // The same tensor in two calls, the second continuing at its offset (odd split: mid-block).
        dropout_forward({.count = 333, .p = 0.5f, .seed = 99, .offset = 17}, x.data(), pieces.data());
        dropout_forward({.count = 668, .p = 0.5f, .seed = 99, .offset = 17 + 333}, x.data() + 333, pieces.data() + 333);
        QVERIFY(whole == pieces);
        dropout_forward({.count = 1001, .p = 0.5f, .seed = 100, .offset = 17}, x.data(), otherSeed.data());
        QVERIFY(whole != otherSeed);
        // The backward regenerates the same mask: dx = dy where kept, scaled, for dy = x.
        dropout_backward({.count = 1001, .p = 0.5f, .seed = 99, .offset = 17}, x.data(), dx.data());
        QVERIFY(dx == whole);
        for (size_t i = 0; i < x.size(); ++i)
            QCOMPARE(whole[i] != 0.0f, dropout_keeps(99, 17 + i, 0.5f) && x[i] != 0.0f);
    }
};

QTEST_APPLESS_MAIN(KernelContracts)
#include "tst_kernel_contracts.moc"
