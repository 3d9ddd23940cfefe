// NumPy .npy importer: dtypes, shapes, header versions, files written by numpy itself (when python3
// with numpy is here), and the refusals (Fortran order, big-endian, float labels, mismatches).
#include "Fixtures.h"
#include "data/NpyImporter.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace raven::data;
using namespace raven::testing;

class TestNpy : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    QString write(const QString& name, const QByteArray& bytes) {
        writeFile(tmp_.filePath(name), bytes);
        return tmp_.filePath(name);
    }
    // Python with numpy: RAVEN_PYTHON first, then the system's.
    static QString pythonWithNumpy() {
        for (const QString& py : {qEnvironmentVariable("RAVEN_PYTHON"), QStringLiteral("/usr/bin/python3")}) {
            if (py.isEmpty()) continue;
            QProcess p;
            p.start(py, {"-c", "import numpy"});
            if (p.waitForFinished(30000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0) return py;
        }
        return {};
    }

private slots:
    void float32WithLabels_data() {
        QTest::addColumn<int>("version");
        QTest::newRow("v1") << 1;
        QTest::newRow("v2") << 2;
        QTest::newRow("v3") << 3;
    }
    void float32WithLabels() {
        QFETCH(int, version);
        std::vector<float> x;
        for (int i = 0; i < 6 * 2 * 3; ++i) x.push_back(float(i) * 0.5f - 3.0f);
        const std::vector<std::int64_t> y = {0, 1, 2, 3, 0, 1};
        NpyImportOptions o;
        o.testFraction = 0.5;
        const Dataset ds = importNpy(write("x.npy", npy("<f4", false, {6, 2, 3}, rawBytes(x), version)),
                                     write("y.npy", npy("<i8", false, {6}, rawBytes(y), version)), o);
        QCOMPARE(ds.name, std::string("x"));
        QCOMPARE(ds.featureShape(), (Shape{2, 3}));
        QCOMPARE(ds.train.count() + ds.test.count(), 6);
        QCOMPARE(ds.test.count(), 3);
        QCOMPARE(ds.classes.size(), std::size_t(4));
        QCOMPARE(toString(ds.elementType), toString(ElementType::F32));
        for (const Samples* s : {&ds.train, &ds.test})
            for (std::int64_t i = 0; i < s->count(); ++i) {
                const auto f = s->features(i);
                const int original = int((f[0] + 3.0f) / 0.5f) / 6;  // which row of x this is
                QCOMPARE(f[5], x[std::size_t(original * 6 + 5)]);
                QCOMPARE(std::int64_t(s->label(i)), y[std::size_t(original)]);
            }
        QCOMPARE(ds.normalization.mean.size(), std::size_t(2));  // per channel: first axis of [2,3]
    }

    void otherTypesAndShapes() {
        // uint8 images stay bytes; float64 and int16 convert; (N,) x gives [1]; (N,T) y gives [T].
        const std::vector<std::uint8_t> pix = {0, 255, 7, 8, 9, 10, 11, 12};
        const std::vector<std::uint8_t> y8 = {1, 0};
        Dataset u8 = importNpy(write("u8.npy", npy("|u1", false, {2, 1, 2, 2}, rawBytes(pix))),
                               write("y8.npy", npy("|u1", false, {2}, rawBytes(y8))), {.testFraction = 0});
        QCOMPARE(toString(u8.elementType), toString(ElementType::U8));
        QCOMPARE(u8.featureShape(), (Shape{1, 2, 2}));

        const std::vector<double> x64 = {1.25, -2.5, 3.0};
        const std::vector<std::int16_t> seq = {1, 2, 0, 2, 1, 1};
        NpyImportOptions named;
        named.testFraction = 0;
        named.classNames = {"a", "b", "c"};
        const Dataset d = importNpy(write("x64.npy", npy("<f8", false, {3}, rawBytes(x64))),
                                    write("seq.npy", npy("<i2", false, {3, 2}, rawBytes(seq))), named);
        QCOMPARE(d.featureShape(), (Shape{1}));
        QCOMPARE(d.labelShape(), (Shape{2}));
        QCOMPARE(d.classes, named.classNames);
        std::vector<float> xs(d.train.allFeatures());
        std::sort(xs.begin(), xs.end());
        QCOMPARE(xs, (std::vector<float>{-2.5f, 1.25f, 3.0f}));
        for (std::int64_t i = 0; i < 3; ++i)
            if (d.train.features(i)[0] == -2.5f)
                QCOMPARE(std::vector<int>(d.train.labels(i).begin(), d.train.labels(i).end()),
                         (std::vector<int>{0, 2}));
    }

    void filesWrittenByNumpy() {
        const QString py = pythonWithNumpy();
        if (py.isEmpty()) QSKIP("python3 with numpy is not installed");
        const QString script = QStringLiteral(
            "import numpy as np, sys\n"
            "d = sys.argv[1]\n"
            "x = (np.arange(5*3*4, dtype=np.float32) / 7).reshape(5, 3, 4)\n"
            "np.save(d + '/x.npy', x)\n"
            "np.save(d + '/y.npy', np.array([4, 3, 2, 1, 0], dtype=np.int64))\n"
            "np.save(d + '/xf.npy', np.asfortranarray(x))\n"
            "np.save(d + '/xbe.npy', x.astype('>f4'))\n");
        QProcess p;
        p.start(py, {"-c", script, tmp_.path()});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        NpyImportOptions o;
        o.testFraction = 0;
        const Dataset ds = importNpy(tmp_.filePath("x.npy"), tmp_.filePath("y.npy"), o);
        QCOMPARE(ds.featureShape(), (Shape{3, 4}));
        QCOMPARE(ds.train.count(), 5);
        for (std::int64_t i = 0; i < 5; ++i) {
            const auto f = ds.train.features(i);
            const int row = int(std::lround(f[0] * 7)) / 12;
            QCOMPARE(f[11], float(row * 12 + 11) / 7.0f);
            QCOMPARE(ds.train.label(i), 4 - row);
        }
        expectError([&] { importNpy(tmp_.filePath("xf.npy"), tmp_.filePath("y.npy")); }, {"xf.npy", "Fortran"});
        expectError([&] { importNpy(tmp_.filePath("xbe.npy"), tmp_.filePath("y.npy")); }, {"xbe.npy", "big-endian"});
    }

    void errors() {
        const std::vector<float> x(12, 1.0f);
        const std::vector<std::int32_t> y = {0, 1, 2};
        const QString xs = write("ex.npy", npy("<f4", false, {3, 4}, rawBytes(x)));
        const QString ys = write("ey.npy", npy("<i4", false, {3}, rawBytes(y)));
        expectError(
            [&] {
                importNpy(write("f.npy", npy("<f4", true, {3, 4}, rawBytes(x))), ys);
            },
            {
                "f.npy",
                "Fortran (column-major) order",
            });
        expectError(
            [&] {
                importNpy(write("be.npy", npy(">f4", false, {3, 4}, rawBytes(x))), ys);
            },
            {"be.npy", "big-endian"});
        expectError(
            [&] {
                importNpy(xs, write("yf.npy", npy("<f4", false, {3}, rawBytes(std::vector<float>{0, 1, 2}))));
            },
            {"yf.npy", "non-integer"});
        expectError(
            [&] {
                importNpy(xs, write("y2.npy", npy("<i4", false, {2}, rawBytes(std::vector<std::int32_t>{0, 1}))));
            },
            {"ex.npy holds 3 samples", "y2.npy holds 2 labels"});
        const QByteArray whole = npy("<f4", false, {3, 4}, rawBytes(x));
        expectError([&] { importNpy(write("t.npy", whole.left(whole.size() - 20)), ys); },
                    {"t.npy", "truncated", "row 1 is the first incomplete"});
        QByteArray magic = whole;
        magic[1] = 'X';
        expectError([&] { importNpy(write("m.npy", magic), ys); }, {"m.npy", "wrong magic"});
        QByteArray v9 = whole;
        v9[6] = char(9);
        expectError([&] { importNpy(write("v.npy", v9), ys); }, {"v.npy", "version 9"});
        expectError(
            [&] {
                importNpy(xs, write("neg.npy", npy("<i4", false, {3}, rawBytes(std::vector<std::int32_t>{0, -1, 2}))));
            },
            {"neg.npy: sample 1 has label -1"});
        expectError(
            [&] {
                importNpy(write("nanx.npy", npy("<f4", false, {3, 4},
                                                rawBytes(std::vector<float>{1, 2, 3, 4, 5, 6, NAN, 8, 9, 10, 11, 12}))),
                          ys);
            },
            {"nanx.npy: sample 1", "element 2"});
        expectError([&] { importNpy(write("c.npy", npy("<c8", false, {3}, rawBytes(x))), ys); },
                    {"c.npy", "unsupported dtype '<c8'"});
        QByteArray brokenDict = whole;
        brokenDict.replace("'shape': (3, 4)", "'shape': [3, 4]");
        expectError([&] { importNpy(write("d.npy", brokenDict), ys); }, {"d.npy", "header dict is malformed"});
    }

    // A shape whose product wraps (2^32 x 2^32 bytes = 2^64, wrapped to 0) passed the size check with
    // a header-only file; a dimension of 20 digits overflowed the parser. Both are errors now.
    void craftedShapeCannotWrapTheSizeCheck() {
        expectError(
            [&] {
                readNpy(write("wrap.npy", npy("|u1", false, {std::int64_t{1} << 32, std::int64_t{1} << 32}, {})));
            },
            {"wrap.npy", "[4294967296,4294967296]", "more than 2^63 bytes"});
        expectError(
            [&] {
                readNpy(write("wrap8.npy", npy("<f8", false, {std::int64_t{1} << 61, 1}, {})));
            },
            {"wrap8.npy", "more than 2^63 bytes"});
        QByteArray digits = npy("|u1", false, {12345}, {});
        digits.replace("(12345, )", "(99999999999999999999, )");
        expectError([&] { readNpy(write("digits.npy", digits)); }, {"digits.npy", "does not fit in 64 bits"});
    }

    // One large label must not make Raven build millions of class names.
    void labelsBeyondTheClassLimitAreRefused() {
        const QString xs = write("lx.npy", npy("<f4", false, {3, 2}, rawBytes(std::vector<float>(6, 1.0f))));
        const QString ys = write("ly.npy", npy("<i8", false, {3}, rawBytes(std::vector<std::int64_t>{0, 2000000, 1})));
        expectError([&] { importNpy(xs, ys); }, {"ly.npy", "label 2000000", "more than Raven's limit of 1048576"});
    }
};

QTEST_GUILESS_MAIN(TestNpy)
#include "tst_Npy.moc"
