// Tensor handles and views, shape errors, float16/bfloat16 conversion, the seeded generator.
#include <QtTest>

#include <bit>
#include <cmath>
#include <limits>

#include "base/Error.h"
#include "tensor/Random.h"
#include "tensor/TensorOps.h"

using namespace raven;

namespace {
std::vector<float> iota(int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
    return v;
}

// Runs f, which must throw raven::Error, and returns the message.
template <class F>
std::string errorOf(F f) {
    try {
        f();
    } catch (const Error& e) {
        return e.message();
    }
    return "(no error)";
}

bool mentions(const std::string& message, std::initializer_list<const char*> parts) {
    for (const char* p : parts) {
        if (message.find(p) == std::string::npos) return false;
    }
    return true;
}
}  // namespace

class TestTensor : public QObject {
    Q_OBJECT

private slots:
    void factoriesFillAndRead();
    void viewsShareStorage();
    void transposeAndPermuteReorder();
    void narrowAndExpand();
    void reshapeCopiesOnlyWhenNeeded();
    void writesThroughAViewReachTheBase();
    void shapeErrorsNameBothShapes();
    void shapeArithmeticIsChecked();
    void halfRoundTripsEveryValue();
    void halfRoundsToNearestEven();
    void halfEdgeCases();
    void bfloat16RoundsToNearestEven();
    void bytesRoundTrip();
    void generatorIsSeededAndPortable();
    void generatorDistributions();
};

void TestTensor::factoriesFillAndRead() {
    QCOMPARE(zeros({2, 3}).toVector(), std::vector<float>(6, 0.0f));
    QCOMPARE(ones({4}).toVector(), std::vector<float>(4, 1.0f));
    QCOMPARE(full({2, 2}, 2.5f).toVector(), std::vector<float>(4, 2.5f));
    const Tensor s = scalarTensor(3.0f);
    QCOMPARE(s.dim(), int64_t{0});
    QCOMPARE(s.item(), 3.0f);
    const Tensor t = fromVector({2, 3}, iota(6));
    QCOMPARE(t.shape(), (Shape{2, 3}));
    QCOMPARE(t.strides(), (Strides{3, 1}));
    QCOMPARE(t.toVector(), iota(6));
    QVERIFY(t.isContiguous());
    QCOMPARE(zeros({0, 3}).numel(), int64_t{0});
    QVERIFY(mentions(errorOf([&] { t.item(); }), {"[2,3]"}));
    QVERIFY(mentions(errorOf([] { fromVector({2, 2}, iota(3)); }), {"[2,2]", "3 values"}));
}

void TestTensor::viewsShareStorage() {
    const Tensor t = fromVector({2, 3, 4}, iota(24));
    for (const Tensor& v :
         {t.view({6, 4}), t.reshape({4, -1}), t.transpose(0, 2), t.permute({1, 2, 0}), t.narrow(1, 1, 2), t.flatten(),
          t.unsqueeze(1), t.narrow(0, 0, 1).squeeze(0), t.narrow(2, 0, 1).expand({2, 3, 5})}) {
        QVERIFY(v.sharesStorageWith(t));
    }
    QCOMPARE(t.reshape({4, -1}).shape(), (Shape{4, 6}));
    QVERIFY(!t.clone().sharesStorageWith(t));
    QVERIFY(t.contiguous().sharesStorageWith(t));  // already contiguous: no copy
}

void TestTensor::transposeAndPermuteReorder() {
    const Tensor t = fromVector({2, 3}, iota(6));
    const Tensor tt = t.transpose(0, 1);
    QCOMPARE(tt.shape(), (Shape{3, 2}));
    QVERIFY(!tt.isContiguous());
    QCOMPARE(tt.toVector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
    const Tensor c = tt.contiguous();
    QVERIFY(!c.sharesStorageWith(t));
    QVERIFY(c.isContiguous());
    QCOMPARE(c.toVector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));

    const Tensor u = fromVector({2, 3, 4}, iota(24));
    const Tensor p = u.permute({2, 0, 1});  // p[k][i][j] = u[i][j][k]
    QCOMPARE(p.shape(), (Shape{4, 2, 3}));
    const std::vector<float> v = p.toVector();
    for (int k = 0; k < 4; ++k)
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 3; ++j)
                QCOMPARE(v[static_cast<size_t>(k * 6 + i * 3 + j)], static_cast<float>(i * 12 + j * 4 + k));
}

void TestTensor::narrowAndExpand() {
    const Tensor t = fromVector({3, 4}, iota(12));
    QCOMPARE(t.narrow(1, 1, 2).toVector(), (std::vector<float>{1, 2, 5, 6, 9, 10}));
    QCOMPARE(t.narrow(0, -1, 1).toVector(), (std::vector<float>{8, 9, 10, 11}));
    QCOMPARE(t.narrow(1, 4, 0).numel(), int64_t{0});
    const Tensor col = fromVector({3, 1}, {1, 2, 3});
    const Tensor e = col.expand({2, 3, 4});
    QCOMPARE(e.strides()[0], int64_t{0});
    QCOMPARE(e.strides()[2], int64_t{0});
    QCOMPARE(e.toVector()[5], 2.0f);
    QCOMPARE(col.expand({-1, 2}).shape(), (Shape{3, 2}));
    QVERIFY(mentions(errorOf([&] { t.narrow(1, 3, 2); }), {"[3,4]"}));
    QVERIFY(mentions(errorOf([&] { t.expand({3, 5}); }), {"[3,4]", "[3,5]"}));
    QVERIFY(mentions(errorOf([&] { t.squeeze(0); }), {"[3,4]"}));
}

void TestTensor::reshapeCopiesOnlyWhenNeeded() {
    const Tensor t = fromVector({2, 3}, iota(6));
    const Tensor tt = t.transpose(0, 1);
    const Tensor r = tt.reshape({6});
    QVERIFY(!r.sharesStorageWith(t));
    QCOMPARE(r.toVector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
    QVERIFY(mentions(errorOf([&] { tt.view({6}); }), {"[3,2]", "[6]"}));
    QVERIFY(mentions(errorOf([&] { t.reshape({4, 2}); }), {"[2,3]", "[4,2]"}));
    QVERIFY(mentions(errorOf([&] { t.reshape({-1, -1}); }), {"-1"}));
    QCOMPARE(fromVector({2, 3, 4}, iota(24)).flatten(1).shape(), (Shape{2, 12}));
}

void TestTensor::writesThroughAViewReachTheBase() {
    Tensor base = zeros({3, 4});
    base.backend().copyInto(base.narrow(1, 1, 2), fromVector({3, 2}, {1, 2, 3, 4, 5, 6}));
    QCOMPARE(base.toVector(), (std::vector<float>{0, 1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0}));
    base.backend().copyInto(base.transpose(0, 1).narrow(0, 0, 1), fromVector({1, 3}, {7, 8, 9}));
    QCOMPARE(base.transpose(0, 1).narrow(0, 0, 1).toVector(), (std::vector<float>{7, 8, 9}));
}

void TestTensor::shapeErrorsNameBothShapes() {
    const Tensor a = ones({3, 4}), b = ones({5, 6});
    QCOMPARE(errorOf([&] { matmul(a, b); }), std::string("matmul: [3,4] x [5,6]: inner dimensions 4 and 5 differ"));
    QVERIFY(mentions(errorOf([&] { add(a, ones({2, 4})); }), {"add", "[3,4]", "[2,4]"}));
    QVERIFY(mentions(errorOf([&] { mul(ones({2, 3}), ones({3, 2})); }), {"mul", "[2,3]", "[3,2]"}));
    QVERIFY(mentions(errorOf([&] { matmul(ones({2, 3, 4}), ones({3, 4, 5})); }), {"[2,3,4]", "[3,4,5]", "batch"}));
    QVERIFY(mentions(errorOf([&] { matmul(ones({4}), ones({4, 2})); }), {"[4]", "[4,2]"}));
    QVERIFY(mentions(errorOf([&] { linear(ones({2, 3}), ones({4, 5})); }), {"[2,3]", "[4,5]"}));
    QVERIFY(mentions(errorOf([&] { concat({ones({2, 3}), ones({3, 3})}, 1); }), {"[2,3]", "[3,3]"}));
    QVERIFY(mentions(errorOf([&] { sum(a, {2}); }), {"[3,4]", "axis 2"}));
    QVERIFY(mentions(errorOf([&] { sum(a, {1, -1}); }), {"twice", "[3,4]"}));
    QVERIFY(mentions(errorOf([&] { a.permute({0, 0}); }), {"[3,4]"}));
}

// Sizes from files, specs and peers can multiply past 64 bits; wrapped, [2^32, 2^32] would count 0
// elements and pass any size check. Each such product is an error naming the shape.
void TestTensor::shapeArithmeticIsChecked() {
    const int64_t big = int64_t{1} << 32;
    QCOMPARE(numelOf({big, big / 4}), int64_t{1} << 62);  // fits
    QCOMPARE(numelOf({0, big, big, big}), int64_t{0});    // empty, whatever the other sizes
    QVERIFY(mentions(errorOf([&] { numelOf({big, big}); }), {"[4294967296,4294967296]", "64 bits"}));
    QVERIFY(mentions(errorOf([&] { numelOf({3, big, big}); }), {"element count", "64 bits"}));
    QVERIFY(mentions(errorOf([&] { byteSizeOf({big, big / 4}, 4); }), {"bytes", "64 bits"}));
    QVERIFY(mentions(errorOf([&] { contiguousStrides({2, big, big}); }), {"stride", "64 bits"}));
    QVERIFY(mentions(errorOf([&] { ones({big, big}); }), {"64 bits"}));
    QVERIFY(mentions(errorOf([&] { ones({2, 3}).reshape({big, big, -1}); }), {"64 bits"}));
}

void TestTensor::halfRoundTripsEveryValue() {
    int nans = 0;
    for (uint32_t bits = 0; bits < 0x10000u; ++bits) {
        const auto h = static_cast<uint16_t>(bits);
        const float f = halfToFloat(h);
        if (std::isnan(f)) {
            ++nans;
            QVERIFY(std::isnan(halfToFloat(floatToHalf(f))));
            continue;
        }
        QCOMPARE(floatToHalf(f), h);
    }
    QCOMPARE(nans, 2 * 1023);
}

void TestTensor::halfRoundsToNearestEven() {
    // Between every pair of neighbouring finite halves (same sign), the midpoint goes to the even
    // one and a hair on either side of it goes to the nearer one.
    for (uint32_t bits = 0; bits < 0x7BFFu; ++bits) {
        const auto lo = static_cast<uint16_t>(bits), hi = static_cast<uint16_t>(bits + 1);
        const double a = halfToFloat(lo), b = halfToFloat(hi);
        const auto mid = static_cast<float>((a + b) / 2);  // exact in float
        QCOMPARE(floatToHalf(mid), (lo & 1u) ? hi : lo);
        QCOMPARE(floatToHalf(std::nextafter(mid, 0.0f)), lo);
        QCOMPARE(floatToHalf(std::nextafter(mid, 1e9f)), hi);
        QCOMPARE(floatToHalf(-mid), static_cast<uint16_t>(((lo & 1u) ? hi : lo) | 0x8000u));
    }
}

void TestTensor::halfEdgeCases() {
    QCOMPARE(floatToHalf(65504.0f), uint16_t{0x7BFF});
    QCOMPARE(floatToHalf(65519.99f), uint16_t{0x7BFF});
    QCOMPARE(floatToHalf(65520.0f), uint16_t{0x7C00});  // the tie rounds to even: infinity
    QCOMPARE(floatToHalf(1e9f), uint16_t{0x7C00});
    QCOMPARE(floatToHalf(-std::numeric_limits<float>::infinity()), uint16_t{0xFC00});
    QCOMPARE(floatToHalf(0x1p-24f), uint16_t{0x0001});  // smallest subnormal
    QCOMPARE(floatToHalf(0x1p-25f), uint16_t{0x0000});  // tie between 0 and it: even = 0
    QCOMPARE(floatToHalf(0x1.8p-25f), uint16_t{0x0001});
    QCOMPARE(floatToHalf(-0.0f), uint16_t{0x8000});
    QCOMPARE(floatToHalf(1.0f), uint16_t{0x3C00});
    QVERIFY(std::isnan(halfToFloat(floatToHalf(std::numeric_limits<float>::quiet_NaN()))));
}

void TestTensor::bfloat16RoundsToNearestEven() {
    QCOMPARE(floatToBFloat16(1.0f), uint16_t{0x3F80});
    QCOMPARE(bfloat16ToFloat(0x3F80), 1.0f);
    // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1).
    QCOMPARE(floatToBFloat16(1.0f + 0x1p-8f), uint16_t{0x3F80});
    // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6: goes up.
    QCOMPARE(floatToBFloat16(1.0f + 3 * 0x1p-8f), uint16_t{0x3F82});
    QCOMPARE(floatToBFloat16(1.0f + 0x1p-8f + 0x1p-20f), uint16_t{0x3F81});
    QCOMPARE(floatToBFloat16(std::numeric_limits<float>::max()), uint16_t{0x7F80});  // rounds up to inf
    QVERIFY(std::isnan(bfloat16ToFloat(floatToBFloat16(std::numeric_limits<float>::quiet_NaN()))));
    for (uint32_t bits = 0; bits < 0x10000u; ++bits) {
        const float f = bfloat16ToFloat(static_cast<uint16_t>(bits));
        if (!std::isnan(f)) QCOMPARE(floatToBFloat16(f), static_cast<uint16_t>(bits));
    }
}

void TestTensor::bytesRoundTrip() {
    const Tensor t = fromVector({2, 2}, {1.0f, -2.5f, 0.099975586f, 65504.0f});
    for (DType d : {DType::F32, DType::F16, DType::BF16}) {
        const std::vector<std::byte> bytes = t.toBytes(d);
        QCOMPARE(bytes.size(), 4 * dtypeSize(d));
        const Tensor back = fromBytes({2, 2}, d, bytes.data(), bytes.size());
        const std::vector<float> v = back.toVector();
        QCOMPARE(v[0], 1.0f);
        QCOMPARE(v[1], -2.5f);
        if (d != DType::BF16) QCOMPARE(v[3], 65504.0f);
        QCOMPARE(dtypeFromName(dtypeName(d)), d);
    }
    // Little-endian F16 of 1.0 is 00 3C.
    const auto one = ones({1}).toBytes(DType::F16);
    QCOMPARE(static_cast<int>(one[0]), 0x00);
    QCOMPARE(static_cast<int>(one[1]), 0x3C);
    const std::byte odd[3] = {};
    QVERIFY_THROWS_EXCEPTION(Error, decodeValues(odd, 3, DType::F16));
    QVERIFY_THROWS_EXCEPTION(Error, dtypeFromName("F64"));
    // No values (an empty gradient from a peer): no memcpy from or to null (UBSan, preset dev, caught it).
    for (DType d : {DType::F32, DType::F16, DType::BF16}) {
        QVERIFY(decodeValues(nullptr, 0, d).empty());
        QVERIFY(encodeValues({}, d).empty());
    }
}

void TestTensor::generatorIsSeededAndPortable() {
    Generator a(42), b(42), c(43);
    std::vector<uint64_t> va, vb, vc;
    for (int i = 0; i < 8; ++i) {
        va.push_back(a.nextU64());
        vb.push_back(b.nextU64());
        vc.push_back(c.nextU64());
    }
    QCOMPARE(va, vb);
    QVERIFY(va != vc);
    // xoshiro256** from splitmix64(0): a fixed, documented sequence, the same on every platform.
    Generator zero(0);
    QCOMPARE(zero.nextU64(), uint64_t{0x99EC5F36CB75F2B4ull});
    Generator g1(5), g2(5);
    QCOMPARE(randn({3, 3}, g1).toVector(), randn({3, 3}, g2).toVector());
    a.reseed(42);
    QCOMPARE(a.nextU64(), va[0]);
}

void TestTensor::generatorDistributions() {
    Generator gen(9);
    const int n = 100000;
    double sumU = 0, sumN = 0, sumN2 = 0;
    for (int i = 0; i < n; ++i) {
        const float u = gen.nextFloat();
        QVERIFY(u >= 0.0f && u < 1.0f);
        sumU += u;
        const double z = gen.nextNormal();
        sumN += z;
        sumN2 += z * z;
    }
    QVERIFY(std::fabs(sumU / n - 0.5) < 0.01);
    QVERIFY(std::fabs(sumN / n) < 0.02);
    QVERIFY(std::fabs(sumN2 / n - 1.0) < 0.03);
    for (int i = 0; i < 1000; ++i) QVERIFY(gen.nextBelow(7) < 7);
    const std::vector<float> u = uniform({1000}, -3.0f, -1.0f, gen).toVector();
    for (float v : u) QVERIFY(v >= -3.0f && v <= -1.0f);
}

QTEST_APPLESS_MAIN(TestTensor)
#include "TestTensor.moc"
