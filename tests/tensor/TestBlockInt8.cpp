// Block int8 updates (tensor/BlockInt8.h) and their generator (tensor/Philox.h):
//   - Philox-4x32-10 gives Random123's known answers;
//   - the encoder's bytes equal a plain reference written here from the format's description (one
//     generator call per value, no blocking tricks), for full, partial, zero and tiny blocks;
//   - every block's scale is its absmax / 127 and every value decodes within one step of itself;
//   - the rounding is unbiased: the mean over many keys converges to the fp32 value, where rounding
//     to nearest would stay a fixed step away;
//   - the same key gives the same bytes, another key other bytes;
//   - NaN and infinity are refused on the way in, hostile payloads on the way out.
#include <QtTest>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>

#include "base/Error.h"
#include "tensor/BlockInt8.h"
#include "tensor/Philox.h"

using namespace raven;

namespace {

std::vector<float> normalValues(std::size_t n, float sigma, unsigned seed) {
    std::mt19937 generator(seed);
    std::normal_distribution<float> normal(0.0f, sigma);
    std::vector<float> v(n);
    for (float& x : v) x = normal(generator);
    return v;
}

// The format as docs describe it, value by value: scale = absmax / 127 per block of 256 (the smallest
// float when that rounds to 0), q = floor(x / scale) + (u < frac), u from Philox word i % 4 of
// counter i / 4, clamped to [-127, 127].
std::vector<std::byte> referenceEncode(const std::vector<float>& values, std::uint64_t key) {
    std::vector<std::byte> out;
    for (std::size_t first = 0; first < values.size(); first += 256) {
        const std::size_t end = std::min(values.size(), first + 256);
        float absmax = 0.0f;
        for (std::size_t i = first; i < end; ++i) absmax = std::max(absmax, std::fabs(values[i]));
        float scale = absmax / 127.0f;
        if (absmax > 0.0f && scale == 0.0f) scale = std::numeric_limits<float>::denorm_min();
        const auto scaleBits = std::bit_cast<std::uint32_t>(scale);
        for (int b = 0; b < 4; ++b) out.push_back(static_cast<std::byte>(scaleBits >> (8 * b)));
        for (std::size_t i = first; i < end; ++i) {
            std::int8_t q = 0;
            if (scale != 0.0f) {
                const PhiloxWords r =
                    philox4x32({static_cast<std::uint32_t>(i / 4), static_cast<std::uint32_t>((i / 4) >> 32), 0, 0},
                               {static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)});
                const float u = static_cast<float>(r[i % 4] >> 8) / 16777216.0f;
                const float scaled = values[i] / scale;
                const float f = std::floor(scaled);
                float chosen = u < scaled - f ? f + 1.0f : f;
                chosen = std::min(127.0f, std::max(-127.0f, chosen));
                q = static_cast<std::int8_t>(chosen);
            }
            out.push_back(static_cast<std::byte>(q));
        }
    }
    return out;
}

float scaleAt(const std::vector<std::byte>& bytes, std::size_t block) {
    float scale = 0;
    std::memcpy(&scale, bytes.data() + block * (256 + 4), 4);
    return scale;
}

}  // namespace

class TestBlockInt8 : public QObject {
    Q_OBJECT

private slots:
    void philoxKnownAnswers() {
        // Random123's kat_vectors: counter, key -> the four words.
        QCOMPARE(philox4x32({0, 0, 0, 0}, {0, 0}), (PhiloxWords{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
        QCOMPARE(philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
                 (PhiloxWords{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
        QCOMPARE(philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
                 (PhiloxWords{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
    }

    void bytesEqualTheReference_data() {
        QTest::addColumn<std::vector<float>>("values");
        QTest::addRow("empty") << std::vector<float>{};
        QTest::addRow("one value") << std::vector<float>{-0.25f};
        QTest::addRow("one full block") << normalValues(256, 0.01f, 1);
        QTest::addRow("a partial last block") << normalValues(1000, 3.0f, 2);  // 3 x 256 + 232
        std::vector<float> zeros = normalValues(700, 1.0f, 3);
        std::fill(zeros.begin() + 256, zeros.begin() + 512, 0.0f);  // block 1 all zeros, -0 among them
        zeros[300] = -0.0f;
        QTest::addRow("a block of zeros") << zeros;
        std::vector<float> tiny(300);
        for (std::size_t i = 0; i < tiny.size(); ++i) tiny[i] = std::ldexp(float(int(i % 7) - 3), -149);
        QTest::addRow("subnormal values") << tiny;
        std::vector<float> wide = normalValues(600, 1.0f, 4);
        wide[5] = 3.0e38f;  // its block's scale stays finite
        wide[400] = -1e-30f;
        QTest::addRow("extremes") << wide;
    }
    void bytesEqualTheReference() {
        QFETCH(std::vector<float>, values);
        for (std::uint64_t key : {0ull, 7ull, 0xfedcba9876543210ull}) {
            const std::vector<std::byte> bytes = encodeBlockInt8(values, key);
            QCOMPARE(bytes.size(), blockInt8Bytes(values.size()));
            QCOMPARE(bytes.size(), values.size() + 4 * ((values.size() + 255) / 256));
            QVERIFY(bytes == referenceEncode(values, key));
            const std::vector<float> decoded = decodeBlockInt8(bytes, values.size());
            QCOMPARE(decoded.size(), values.size());
            for (std::size_t i = 0; i < values.size(); ++i) {
                // Within one step of the block's scale, on the value's side of zero or at zero.
                const float scale = scaleAt(bytes, i / 256);
                QVERIFY2(std::fabs(decoded[i] - values[i]) <= scale * 1.0001f,
                         qPrintable(QStringLiteral("value %1: %2 decoded as %3, scale %4")
                                        .arg(i)
                                        .arg(values[i])
                                        .arg(decoded[i])
                                        .arg(scale)));
                QVERIFY(decoded[i] * values[i] >= 0.0f);
            }
        }
    }

    void scaleIsTheBlocksAbsmaxOver127() {
        const std::vector<float> values = normalValues(1000, 0.5f, 5);
        const std::vector<std::byte> bytes = encodeBlockInt8(values, 11);
        for (std::size_t block = 0; block < 4; ++block) {
            float absmax = 0;
            for (std::size_t i = block * 256; i < std::min<std::size_t>(values.size(), (block + 1) * 256); ++i)
                absmax = std::max(absmax, std::fabs(values[i]));
            QCOMPARE(scaleAt(bytes, block), absmax / 127.0f);
            // The largest value of a block is representable: it decodes to +-127 steps, exactly absmax up
            // to the scale's own rounding.
        }
        std::vector<float> zeros(256 + 10, 0.0f);
        const std::vector<std::byte> z = encodeBlockInt8(zeros, 3);
        QCOMPARE(scaleAt(z, 0), 0.0f);
        QCOMPARE(scaleAt(z, 1), 0.0f);
        for (std::size_t i = 4; i < 260; ++i) QCOMPARE(z[i], std::byte{0});
        for (float v : decodeBlockInt8(z, zeros.size())) QCOMPARE(std::bit_cast<std::uint32_t>(v), 0u);
    }

    // The mean of many encodings of the same values (each under its own key) converges to the values:
    // after N draws the error of the mean is at most 5 sigma, sigma <= scale / (2 sqrt(N)). Rounding
    // to nearest would leave values of 0.3 steps at 0 (an error of 0.3 steps) and fail here.
    void roundingIsUnbiased() {
        std::vector<float> values(512);
        const float step = 1.0f / 127.0f;  // block absmax 1 -> scale 1/127
        for (std::size_t i = 0; i < values.size(); ++i) values[i] = step * (float(i % 100) / 100.0f + float(i % 5) - 2);
        values[0] = 1.0f;
        values[256] = -1.0f;
        constexpr int kDraws = 4000;
        std::vector<double> sum(values.size(), 0.0);
        for (int k = 0; k < kDraws; ++k) {
            const std::vector<float> d = decodeBlockInt8(encodeBlockInt8(values, 1000 + k), values.size());
            for (std::size_t i = 0; i < d.size(); ++i) sum[i] += d[i];
        }
        const double bound = 5.0 * step / (2.0 * std::sqrt(double(kDraws)));
        double worst = 0;
        for (std::size_t i = 0; i < values.size(); ++i) {
            const double error = std::fabs(sum[i] / kDraws - values[i]);
            worst = std::max(worst, error);
            QVERIFY2(error <= bound, qPrintable(QStringLiteral("value %1 (%2): mean of %3 draws off by %4 > %5")
                                                    .arg(i)
                                                    .arg(values[i])
                                                    .arg(kDraws)
                                                    .arg(error)
                                                    .arg(bound)));
        }
        qInfo("worst error of the mean over %d draws: %.3g steps (bound %.3g)", kDraws, worst / step, bound / step);
    }

    void sameKeySameBytesOtherKeyOtherBytes() {
        const std::vector<float> values = normalValues(5000, 0.1f, 6);
        const std::vector<std::byte> a = encodeBlockInt8(values, 42);
        QVERIFY(a == encodeBlockInt8(values, 42));
        const std::vector<std::byte> b = encodeBlockInt8(values, 43);
        QVERIFY(a != b);
        // Only the rounding differs: the scales are the same, most values the same, and the values that
        // differ differ by one step.
        std::size_t differ = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (i % 260 < 4) {
                QCOMPARE(a[i], b[i]);
            } else if (a[i] != b[i]) {
                ++differ;
                QCOMPARE(std::abs(int(std::int8_t(a[i])) - int(std::int8_t(b[i]))), 1);
            }
        }
        QVERIFY(differ > values.size() / 10);
        QVERIFY(differ < values.size() * 6 / 10);
    }

    void nonFiniteInputIsRefused() {
        for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity()}) {
            std::vector<float> values = normalValues(300, 1.0f, 7);
            values[257] = bad;
            try {
                encodeBlockInt8(values, 1);
                QFAIL("a non-finite value was encoded");
            } catch (const raven::Error& e) {
                QVERIFY2(QString::fromStdString(e.what()).contains("update value 257 of 300"), e.what());
            }
        }
        // So close to FLT_MAX that 127 steps of its scale would overflow on the way back.
        std::vector<float> huge = normalValues(300, 1.0f, 7);
        huge[3] = -0.999f * std::numeric_limits<float>::max();
        QVERIFY_THROWS_EXCEPTION(raven::Error, encodeBlockInt8(huge, 1));
    }

    void hostilePayloadsAreRefused() {
        const std::vector<float> values = normalValues(600, 1.0f, 8);  // blocks of 256, 256, 88
        const std::vector<std::byte> good = encodeBlockInt8(values, 9);
        QCOMPARE(decodeBlockInt8(good, values.size()).size(), values.size());
        auto refused = [&](std::vector<std::byte> bytes, std::size_t count, const char* why) {
            try {
                decodeBlockInt8(bytes, count);
            } catch (const raven::Error&) {
                return;
            }
            QFAIL(why);
        };
        std::vector<std::byte> shorter(good.begin(), good.end() - 1);
        refused(shorter, values.size(), "a payload one byte short");
        std::vector<std::byte> longer = good;
        longer.push_back(std::byte{0});
        refused(longer, values.size(), "a payload one byte long");
        refused(good, values.size() + 1, "a payload of another count");
        refused({}, 1, "an empty payload for one value");
        const auto withScale = [&](std::size_t block, float scale) {
            std::vector<std::byte> bytes = good;
            std::memcpy(bytes.data() + block * 260, &scale, 4);
            return bytes;
        };
        refused(withScale(2, std::numeric_limits<float>::quiet_NaN()), values.size(), "a NaN scale");
        refused(withScale(1, std::numeric_limits<float>::infinity()), values.size(), "an infinite scale");
        refused(withScale(0, -0.5f), values.size(), "a negative scale");
        refused(withScale(0, -0.0f), values.size(), "a scale of -0");
        refused(withScale(0, 1e37f), values.size(), "a scale whose 127 steps overflow float32");
        std::vector<std::byte> minus128 = good;
        minus128[260 + 4 + 17] = std::byte{0x80};
        refused(minus128, values.size(), "a value of -128");
        // And a payload that is valid but not an honest encoder's (scale 0 with values, the largest
        // scale) still decodes to finite values: the coordinator's plausibility checks judge it, as any
        // wrong update.
        std::vector<float> decoded = decodeBlockInt8(withScale(0, 0.0f), values.size());
        for (std::size_t i = 0; i < 256; ++i) QVERIFY(decoded[i] == 0.0f);
        decoded = decodeBlockInt8(withScale(1, std::numeric_limits<float>::max() / 128.0f), values.size());
        for (float v : decoded) QVERIFY(std::isfinite(v));
    }
};

QTEST_GUILESS_MAIN(TestBlockInt8)
#include "TestBlockInt8.moc"
