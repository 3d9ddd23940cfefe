// Every CPU kernel's backward against central finite differences of its own forward, on awkward shapes:
// sizes of 1, odd sizes, stride > 1, padding, dilation, groups > 1, T = 1, causal masks, cross-attention.
// The loss is sum(output * r) for a fixed random r, so the analytic gradients come from backward(dy = r).
#include <QTest>

#include "cpu/kernels/Kernels.h"
#include "cpu_kernels/KernelTestUtils.h"

using namespace raven::cpu::kernels;
using raven::test::checkGradient;
using raven::test::distinctBuffer;
using raven::test::dot;
using raven::test::randomBuffer;

Q_DECLARE_METATYPE(Conv2dShape)
Q_DECLARE_METATYPE(Pool2dShape)
Q_DECLARE_METATYPE(AttentionShape)

#define VERIFY_EMPTY(result)                        \
    do {                                            \
        const std::string message = (result);       \
        QVERIFY2(message.empty(), message.c_str()); \
    } while (false)

class GradCheck : public QObject {
    Q_OBJECT

private slots:
    void conv2d_data() {
        QTest::addColumn<Conv2dShape>("shape");
        QTest::addColumn<bool>("withBias");
        QTest::newRow("all ones") << Conv2dShape{} << true;
        QTest::newRow("3x3 pad 1") << Conv2dShape{.batch = 2,
                                                  .inChannels = 3,
                                                  .height = 5,
                                                  .width = 7,
                                                  .outChannels = 4,
                                                  .kernelH = 3,
                                                  .kernelW = 3,
                                                  .padH = 1,
                                                  .padW = 1}
                                   << true;
        QTest::newRow("stride, dilation, groups 2") << Conv2dShape{.batch = 2,
                                                                   .inChannels = 4,
                                                                   .height = 7,
                                                                   .width = 6,
                                                                   .outChannels = 6,
                                                                   .kernelH = 3,
                                                                   .kernelW = 2,
                                                                   .strideH = 2,
                                                                   .strideW = 3,
                                                                   .padH = 1,
                                                                   .padW = 0,
                                                                   .dilationH = 2,
                                                                   .dilationW = 1,
                                                                   .groups = 2}
                                                    << true;
        QTest::newRow("pointwise groups 3")
            << Conv2dShape{.batch = 3, .inChannels = 6, .height = 5, .width = 5, .outChannels = 3, .groups = 3}
            << false;
        QTest::newRow("depthwise, big padding") << Conv2dShape{.batch = 1,
                                                               .inChannels = 2,
                                                               .height = 4,
                                                               .width = 9,
                                                               .outChannels = 2,
                                                               .kernelH = 2,
                                                               .kernelW = 3,
                                                               .strideH = 3,
                                                               .strideW = 3,
                                                               .padH = 2,
                                                               .padW = 2,
                                                               .dilationH = 2,
                                                               .dilationW = 3,
                                                               .groups = 2}
                                                << true;
        QTest::newRow("17 samples in chunks") << Conv2dShape{.batch = 17,
                                                             .inChannels = 2,
                                                             .height = 3,
                                                             .width = 3,
                                                             .outChannels = 2,
                                                             .kernelH = 2,
                                                             .kernelW = 2}
                                              << true;
    }
    void conv2d() {
        QFETCH(Conv2dShape, shape);
        QFETCH(bool, withBias);
        const Conv2dShape& s = shape;
        auto x = randomBuffer(static_cast<size_t>(s.batch * s.inChannels * s.height * s.width), 1);
        auto w = randomBuffer(static_cast<size_t>(s.outChannels * s.inChannels / s.groups * s.kernelH * s.kernelW), 2);
        auto b = randomBuffer(withBias ? static_cast<size_t>(s.outChannels) : 0, 3);
        const auto r = randomBuffer(static_cast<size_t>(s.batch * s.outChannels * s.outH() * s.outW()), 4);
        std::vector<float> y(r.size());
        auto loss = [&] {
            conv2d_forward(s, x.data(), w.data(), withBias ? b.data() : nullptr, y.data());
            return dot(y, r);
        };
        std::vector<float> dx(x.size()), dw(w.size()), db(b.size());
        conv2d_backward(s, x.data(), w.data(), r.data(), dx.data(), dw.data(), withBias ? db.data() : nullptr);
        VERIFY_EMPTY(checkGradient("dx", x, dx, loss));
        VERIFY_EMPTY(checkGradient("dweight", w, dw, loss));
        VERIFY_EMPTY(checkGradient("dbias", b, db, loss));
    }

    void pool2d_data() {
        QTest::addColumn<Pool2dShape>("shape");
        QTest::newRow("1x1") << Pool2dShape{};
        QTest::newRow("3x2 stride 2x1 pad 1") << Pool2dShape{.batch = 2,
                                                             .channels = 3,
                                                             .height = 5,
                                                             .width = 7,
                                                             .kernelH = 3,
                                                             .kernelW = 2,
                                                             .strideH = 2,
                                                             .strideW = 1,
                                                             .padH = 1,
                                                             .padW = 1};
        QTest::newRow("2x2 stride 2, odd input") << Pool2dShape{
            .batch = 2, .channels = 2, .height = 7, .width = 5, .kernelH = 2, .kernelW = 2, .strideH = 2, .strideW = 2};
        QTest::newRow("overlapping 3x3 pad 1") << Pool2dShape{
            .batch = 1, .channels = 2, .height = 4, .width = 4, .kernelH = 3, .kernelW = 3, .padH = 1, .padW = 1};
    }
    void pool2d() {
        QFETCH(Pool2dShape, shape);
        const Pool2dShape& s = shape;
        auto x = distinctBuffer(static_cast<size_t>(s.batch * s.channels * s.height * s.width), 5);
        const auto r = randomBuffer(static_cast<size_t>(s.batch * s.channels * s.outH() * s.outW()), 6);
        std::vector<float> y(r.size()), dx(x.size());
        std::vector<int64_t> argmax(r.size());

        auto maxLoss = [&] {
            max_pool2d_forward(s, x.data(), y.data(), argmax.data());
            return dot(y, r);
        };
        maxLoss();
        max_pool2d_backward(s, argmax.data(), r.data(), dx.data());
        VERIFY_EMPTY(checkGradient("max dx", x, dx, maxLoss));

        for (bool includePad : {true, false}) {
            auto avgLoss = [&] {
                avg_pool2d_forward(s, x.data(), y.data(), includePad);
                return dot(y, r);
            };
            avg_pool2d_backward(s, r.data(), dx.data(), includePad);
            VERIFY_EMPTY(checkGradient(includePad ? "avg dx" : "avg dx (count_include_pad false)", x, dx, avgLoss));
        }
    }

    void layerNorm() {
        for (auto [rows, features] : {std::pair<int64_t, int64_t>{1, 1}, {3, 5}, {4, 17}, {1, 300}}) {
            for (bool affine : {true, false}) {
                const LayerNormShape s{.rows = rows, .features = features};
                auto x = randomBuffer(static_cast<size_t>(rows * features), 7);
                auto w = randomBuffer(static_cast<size_t>(features), 8, 0.5f, 1.5f);
                auto b = randomBuffer(static_cast<size_t>(features), 9);
                const auto r = randomBuffer(x.size(), 10);
                std::vector<float> y(x.size()), mean(static_cast<size_t>(rows)), rstd(static_cast<size_t>(rows));
                const float* wp = affine ? w.data() : nullptr;
                const float* bp = affine ? b.data() : nullptr;
                auto loss = [&] {
                    layer_norm_forward(s, x.data(), wp, bp, y.data(), mean.data(), rstd.data());
                    return dot(y, r);
                };
                loss();
                std::vector<float> dx(x.size()), dw(w.size()), db(b.size());
                layer_norm_backward(s, x.data(), wp, mean.data(), rstd.data(), r.data(), dx.data(), dw.data(),
                                    db.data());
                const std::string where = " (" + std::to_string(rows) + "x" + std::to_string(features) + ")";
                VERIFY_EMPTY(checkGradient("dx" + where, x, dx, loss));
                if (affine) {
                    VERIFY_EMPTY(checkGradient("dweight" + where, w, dw, loss));
                    VERIFY_EMPTY(checkGradient("dbias" + where, b, db, loss));
                }
            }
        }
    }

    void batchNorm() {
        struct Case {
            int64_t batch, channels, spatial;
            bool training;
        };
        for (const Case& c : {Case{2, 3, 1, true}, Case{3, 2, 5, true}, Case{1, 2, 4, true}, Case{5, 1, 1, true},
                              Case{1, 3, 2, false}, Case{2, 2, 3, false}}) {
            const BatchNormShape s{.batch = c.batch, .channels = c.channels, .spatial = c.spatial};
            auto x = randomBuffer(static_cast<size_t>(c.batch * c.channels * c.spatial), 11);
            auto w = randomBuffer(static_cast<size_t>(c.channels), 12, 0.5f, 1.5f);
            auto b = randomBuffer(static_cast<size_t>(c.channels), 13);
            const auto runningMean = randomBuffer(static_cast<size_t>(c.channels), 14);
            const auto runningVar = randomBuffer(static_cast<size_t>(c.channels), 15, 0.5f, 2.0f);
            const auto r = randomBuffer(x.size(), 16);
            std::vector<float> y(x.size()), mean(static_cast<size_t>(c.channels)),
                invstd(static_cast<size_t>(c.channels));
            auto loss = [&] {
                // Fresh copies: the running statistics must not drift between finite-difference evaluations.
                auto rm = runningMean, rv = runningVar;
                batch_norm_forward(s, c.training, x.data(), w.data(), b.data(), rm.data(), rv.data(), y.data(),
                                   mean.data(), invstd.data());
                return dot(y, r);
            };
            loss();
            std::vector<float> dx(x.size()), dw(w.size()), db(b.size());
            batch_norm_backward(s, c.training, x.data(), w.data(), mean.data(), invstd.data(), r.data(), dx.data(),
                                dw.data(), db.data());
            const std::string where = std::string(c.training ? " train" : " eval") + " (" + std::to_string(c.batch) +
                                      "," + std::to_string(c.channels) + "," + std::to_string(c.spatial) + ")";
            VERIFY_EMPTY(checkGradient("dx" + where, x, dx, loss));
            VERIFY_EMPTY(checkGradient("dweight" + where, w, dw, loss));
            VERIFY_EMPTY(checkGradient("dbias" + where, b, db, loss));
        }
    }

    void embedding() {
        for (int64_t padding : {int64_t{-1}, int64_t{3}}) {
            const EmbeddingShape s{.vocabulary = 7, .dim = 5, .count = 9, .paddingIndex = padding};
            const std::vector<int64_t> indices{3, 0, 6, 3, 3, 1, 6, 2, 0};
            auto w = randomBuffer(static_cast<size_t>(s.vocabulary * s.dim), 17);
            const auto r = randomBuffer(static_cast<size_t>(s.count * s.dim), 18);
            std::vector<float> y(r.size()), dw(w.size());
            auto loss = [&] {
                embedding_forward(s, indices.data(), w.data(), y.data());
                double sum = 0.0;
                // The padding row is looked up like any other but receives no gradient (PyTorch's padding_idx):
                // leave its uses out of the loss so that finite differences agree.
                for (int64_t i = 0; i < s.count; ++i)
                    if (indices[static_cast<size_t>(i)] != padding)
                        for (int64_t d = 0; d < s.dim; ++d)
                            sum +=
                                double(y[static_cast<size_t>(i * s.dim + d)]) * r[static_cast<size_t>(i * s.dim + d)];
                return sum;
            };
            embedding_backward(s, indices.data(), r.data(), dw.data());
            VERIFY_EMPTY(checkGradient("dweight", w, dw, loss));
        }
    }

    void dropout() {
        const DropoutShape s{.count = 37, .p = 0.3f, .seed = 42, .offset = 5};
        auto x = randomBuffer(static_cast<size_t>(s.count), 19);
        const auto r = randomBuffer(x.size(), 20);
        std::vector<float> y(x.size()), dx(x.size());
        auto loss = [&] {
            dropout_forward(s, x.data(), y.data());
            return dot(y, r);
        };
        dropout_backward(s, r.data(), dx.data());
        VERIFY_EMPTY(checkGradient("dx", x, dx, loss));
    }

    void attention_data() {
        QTest::addColumn<AttentionShape>("shape");
        QTest::newRow("all ones") << AttentionShape{};
        QTest::newRow("T=1 causal") << AttentionShape{
            .batch = 2, .heads = 1, .queryLength = 1, .keyLength = 1, .headDim = 3, .valueDim = 2, .causal = true};
        QTest::newRow("self 5") << AttentionShape{
            .batch = 2, .heads = 2, .queryLength = 5, .keyLength = 5, .headDim = 4, .valueDim = 3};
        QTest::newRow("self 5 causal") << AttentionShape{
            .batch = 2, .heads = 2, .queryLength = 5, .keyLength = 5, .headDim = 4, .valueDim = 3, .causal = true};
        QTest::newRow("cross 3x6") << AttentionShape{
            .batch = 1, .heads = 2, .queryLength = 3, .keyLength = 6, .headDim = 4, .valueDim = 5};
        QTest::newRow("cross 6x3 causal, scale") << AttentionShape{.batch = 1,
                                                                   .heads = 1,
                                                                   .queryLength = 6,
                                                                   .keyLength = 3,
                                                                   .headDim = 2,
                                                                   .valueDim = 2,
                                                                   .causal = true,
                                                                   .scale = 0.8f};
    }
    void attention() {
        QFETCH(AttentionShape, shape);
        const AttentionShape& s = shape;
        const int64_t bh = s.batch * s.heads;
        auto q = randomBuffer(static_cast<size_t>(bh * s.queryLength * s.headDim), 21);
        auto k = randomBuffer(static_cast<size_t>(bh * s.keyLength * s.headDim), 22);
        auto v = randomBuffer(static_cast<size_t>(bh * s.keyLength * s.valueDim), 23);
        const auto r = randomBuffer(static_cast<size_t>(bh * s.queryLength * s.valueDim), 24);
        std::vector<float> out(r.size()), probs(static_cast<size_t>(bh * s.queryLength * s.keyLength));
        auto loss = [&] {
            attention_forward(s, q.data(), k.data(), v.data(), out.data(), probs.data());
            return dot(out, r);
        };
        loss();
        std::vector<float> dq(q.size()), dk(k.size()), dv(v.size());
        attention_backward(s, q.data(), k.data(), v.data(), probs.data(), r.data(), dq.data(), dk.data(), dv.data());
        VERIFY_EMPTY(checkGradient("dq", q, dq, loss));
        VERIFY_EMPTY(checkGradient("dk", k, dk, loss));
        VERIFY_EMPTY(checkGradient("dv", v, dv, loss));
    }
};

QTEST_APPLESS_MAIN(GradCheck)
#include "tst_gradcheck.moc"
