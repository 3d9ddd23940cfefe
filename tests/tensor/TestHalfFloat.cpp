// F16 and BF16 conversions (tensor/DType.h, the one set the wire and the checkpoints share): exact widening (checked for all 65536 patterns against an independent
// formula), round-to-nearest-even narrowing (specials, subnormals and ties by hand, then random
// floats against a brute-force nearest-neighbour search).
#include <QtTest>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>

#include "tensor/DType.h"

using namespace raven;

namespace {

float bitsToFloat(std::uint32_t bits) { return std::bit_cast<float>(bits); }

// The value of a half from its fields, computed without the code under test.
double halfValue(std::uint16_t bits) {
    const int sign = (bits & 0x8000) ? -1 : 1;
    const int exponent = (bits >> 10) & 0x1f;
    const int mantissa = bits & 0x3ff;
    if (exponent == 0) return sign * std::ldexp(mantissa, -24);
    return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

// True if `chosen` is the correctly rounded (nearest, ties to even) 16-bit encoding of `value`,
// given a widening function already known to be exact. For rounding, infinity stands for the next
// power of two after the largest finite value (`overflowValue`), as IEEE 754 prescribes.
bool isNearestEven(float value, std::uint16_t chosen, float (*widenExactly)(std::uint16_t), std::uint16_t infinity,
                   double overflowValue) {
    const auto widen = [&](std::uint16_t bits) {
        const double widened = widenExactly(bits);
        return std::isinf(widened) ? std::copysign(overflowValue, widened) : widened;
    };
    const double x = std::isinf(value) ? std::copysign(overflowValue * 2, value) : double(value);
    const double mine = widen(chosen);
    const std::uint16_t sign = chosen & 0x8000;
    const std::uint16_t magnitude = chosen & 0x7fff;
    for (int step : {-1, 1}) {
        const int neighbour = magnitude + step;
        if (neighbour < 0 || neighbour > infinity) continue;
        const double other = widen(static_cast<std::uint16_t>(sign | neighbour));
        const double myDistance = std::fabs(x - mine);
        const double otherDistance = std::fabs(x - other);
        if (otherDistance < myDistance) return false;
        if (otherDistance == myDistance && (magnitude & 1)) return false;
    }
    return true;
}

}  // namespace

class HalfFloatTest : public QObject {
    Q_OBJECT
private slots:
    void halfWideningIsExactForEveryPattern() {
        for (std::uint32_t bits = 0; bits <= 0xffff; ++bits) {
            const auto half = static_cast<std::uint16_t>(bits);
            const float widened = halfToFloat(half);
            const int exponent = (half >> 10) & 0x1f;
            if (exponent == 0x1f) {
                QVERIFY((half & 0x3ff) ? std::isnan(widened) : std::isinf(widened));
                QCOMPARE(std::signbit(widened), bool(half & 0x8000));
                continue;
            }
            QCOMPARE(static_cast<double>(widened), halfValue(half));
            QCOMPARE(std::signbit(widened), bool(half & 0x8000));  // -0 stays -0
            QCOMPARE(floatToHalf(widened), half);              // and back again, unchanged
        }
    }

    void halfNarrowing_data() {
        QTest::addColumn<float>("value");
        QTest::addColumn<int>("expected");
        QTest::newRow("zero") << 0.0f << 0x0000;
        QTest::newRow("negative zero") << -0.0f << 0x8000;
        QTest::newRow("one") << 1.0f << 0x3c00;
        QTest::newRow("minus two") << -2.0f << 0xc000;
        QTest::newRow("largest finite") << 65504.0f << 0x7bff;
        QTest::newRow("just below overflow tie") << 65519.996f << 0x7bff;
        QTest::newRow("overflow tie goes to infinity") << 65520.0f << 0x7c00;
        QTest::newRow("far beyond range") << 1e10f << 0x7c00;
        QTest::newRow("infinity") << INFINITY << 0x7c00;
        QTest::newRow("minus infinity") << -INFINITY << 0xfc00;
        QTest::newRow("smallest normal") << std::ldexp(1.0f, -14) << 0x0400;
        QTest::newRow("below smallest normal rounds up to it") << std::ldexp(2047.0f, -25) << 0x0400;
        QTest::newRow("largest subnormal") << std::ldexp(1023.0f, -24) << 0x03ff;
        QTest::newRow("smallest subnormal") << std::ldexp(1.0f, -24) << 0x0001;
        QTest::newRow("half the smallest subnormal ties to zero") << std::ldexp(1.0f, -25) << 0x0000;
        QTest::newRow("negative tiny ties to negative zero") << -std::ldexp(1.0f, -25) << 0x8000;
        QTest::newRow("just above half the smallest") << std::ldexp(1.0f + 0x1p-23f, -25) << 0x0001;
        QTest::newRow("subnormal tie 1.5 goes to 2") << std::ldexp(3.0f, -25) << 0x0002;
        QTest::newRow("subnormal tie 2.5 goes to 2") << std::ldexp(5.0f, -25) << 0x0002;
        QTest::newRow("far below range") << 1e-8f << 0x0000;
        QTest::newRow("float subnormal") << bitsToFloat(0x00000001) << 0x0000;
        QTest::newRow("tie down to even") << 1.0f + 0x1p-11f << 0x3c00;
        QTest::newRow("tie up to even") << 1.0f + 0x3p-11f << 0x3c02;
        QTest::newRow("just above a tie") << 1.0f + 0x1p-11f + 0x1p-20f << 0x3c01;
        QTest::newRow("rounding carries into the exponent") << 2.0f - 0x1p-12f << 0x4000;
    }
    void halfNarrowing() {
        QFETCH(float, value);
        QFETCH(int, expected);
        QCOMPARE(int(floatToHalf(value)), expected);
    }

    void halfNarrowingKeepsNaN_data() {
        QTest::addColumn<quint32>("floatBits");
        QTest::newRow("quiet NaN") << quint32(0x7fc00000);
        QTest::newRow("payload only in the low bits") << quint32(0x7f800001);
        QTest::newRow("negative NaN") << quint32(0xffc00123);
    }
    void halfNarrowingKeepsNaN() {
        QFETCH(quint32, floatBits);
        const std::uint16_t half = floatToHalf(bitsToFloat(floatBits));
        QCOMPARE(half & 0x7c00, 0x7c00);
        QVERIFY(half & 0x0200);  // quiet, hence never infinity
        QCOMPARE(bool(half & 0x8000), bool(floatBits & 0x80000000u));
    }

    void bfloat16Conversions_data() {
        QTest::addColumn<quint32>("floatBits");
        QTest::addColumn<int>("expected");
        QTest::newRow("one") << quint32(0x3f800000) << 0x3f80;
        QTest::newRow("negative zero") << quint32(0x80000000) << 0x8000;
        QTest::newRow("tie down to even") << quint32(0x3f808000) << 0x3f80;
        QTest::newRow("tie up to even") << quint32(0x3f818000) << 0x3f82;
        QTest::newRow("above a tie") << quint32(0x3f808001) << 0x3f81;
        QTest::newRow("largest float overflows") << quint32(0x7f7fffff) << 0x7f80;
        QTest::newRow("largest bf16 stays") << quint32(0x7f7f0000) << 0x7f7f;
        QTest::newRow("infinity") << quint32(0x7f800000) << 0x7f80;
        QTest::newRow("minus infinity") << quint32(0xff800000) << 0xff80;
        QTest::newRow("subnormal exact") << quint32(0x00010000) << 0x0001;
        QTest::newRow("subnormal tie to even 2") << quint32(0x00018000) << 0x0002;
        QTest::newRow("subnormal tie to zero") << quint32(0x00008000) << 0x0000;
        QTest::newRow("subnormal rounds into normal") << quint32(0x007fffff) << 0x0080;
    }
    void bfloat16Conversions() {
        QFETCH(quint32, floatBits);
        QFETCH(int, expected);
        const std::uint16_t bf16 = floatToBFloat16(bitsToFloat(floatBits));
        QCOMPARE(int(bf16), expected);
        QCOMPARE(std::bit_cast<std::uint32_t>(bfloat16ToFloat(bf16)), std::uint32_t(expected) << 16);
    }

    void bfloat16KeepsNaN() {
        for (const std::uint32_t bits : {0x7fc00000u, 0x7f800001u, 0xff800100u}) {
            const std::uint16_t bf16 = floatToBFloat16(bitsToFloat(bits));
            QVERIFY(std::isnan(bfloat16ToFloat(bf16)));
            QCOMPARE(bool(bf16 & 0x8000), bool(bits & 0x80000000u));
        }
    }

    void randomFloatsRoundToNearestEven() {
        std::mt19937 random(12345);
        std::uniform_int_distribution<std::uint32_t> anyBits;
        std::uniform_int_distribution<std::uint32_t> halfRangeBits(0x33000000u, 0x47800000u);  // 2^-25 .. 65536
        for (int i = 0; i < 200000; ++i) {
            std::uint32_t bits = i % 2 ? anyBits(random) : halfRangeBits(random) | (anyBits(random) & 0x80000000u);
            if (i % 7 == 0) bits &= 0xffffe000u | 0x1000u;  // many exact half-ulp ties for F16
            const float value = bitsToFloat(bits);
            if (std::isnan(value)) continue;
            const std::uint16_t half = floatToHalf(value);
            if (!isNearestEven(value, half, halfToFloat, 0x7c00, 65536.0))
                QFAIL(qPrintable(
                    QString("F16 of %1 (0x%2) is 0x%3").arg(double(value)).arg(bits, 8, 16).arg(half, 4, 16)));
            const std::uint16_t bf16 = floatToBFloat16(value);
            if (!isNearestEven(value, bf16, bfloat16ToFloat, 0x7f80, std::ldexp(1.0, 128)))
                QFAIL(qPrintable(
                    QString("BF16 of %1 (0x%2) is 0x%3").arg(double(value)).arg(bits, 8, 16).arg(bf16, 4, 16)));
        }
    }
};

QTEST_APPLESS_MAIN(HalfFloatTest)
#include "TestHalfFloat.moc"
