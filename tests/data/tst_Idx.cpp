// IDX importer on generated MNIST-style files: raw and gzipped, shapes, labels, and the errors a
// damaged or mismatched file must give.
#include "Fixtures.h"
#include "data/IdxImporter.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace raven::data;
using namespace raven::testing;

class TestIdx : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;

    // n images of h x w where pixel (i, r, c) = (i * 7 + r * w + c) % 256, labels i % 3.
    static std::vector<std::uint8_t> pixels(std::uint32_t n, std::uint32_t h, std::uint32_t w) {
        std::vector<std::uint8_t> v;
        for (std::uint32_t i = 0; i < n; ++i)
            for (std::uint32_t p = 0; p < h * w; ++p) v.push_back(std::uint8_t((i * 7 + p) % 256));
        return v;
    }
    static std::vector<std::uint8_t> labels(std::uint32_t n) {
        std::vector<std::uint8_t> v;
        for (std::uint32_t i = 0; i < n; ++i) v.push_back(std::uint8_t(i % 3));
        return v;
    }
    QString writeSet(const QString& name, bool gz, std::uint32_t trainN = 5, std::uint32_t testN = 2) {
        const QString dir = tmp_.filePath(name);
        auto put = [&](const char* file, const QByteArray& bytes) {
            writeFile(dir + "/" + file + (gz ? ".gz" : ""), gz ? gzip(bytes) : bytes);
        };
        put("train-images-idx3-ubyte", idxU8({trainN, 4, 3}, pixels(trainN, 4, 3)));
        put("train-labels-idx1-ubyte", idxU8({trainN}, labels(trainN)));
        put("t10k-images-idx3-ubyte", idxU8({testN, 4, 3}, pixels(testN, 4, 3)));
        put("t10k-labels-idx1-ubyte", idxU8({testN}, labels(testN)));
        return dir;
    }

private slots:
    void importsRawAndGzipped_data() {
        QTest::addColumn<bool>("gz");
        QTest::newRow("raw") << false;
        QTest::newRow("gzip") << true;
    }
    void importsRawAndGzipped() {
        QFETCH(bool, gz);
        const QString dir = writeSet(gz ? "gz" : "raw", gz);
        const Dataset ds = importIdxDirectory(dir);
        QCOMPARE(ds.name, std::string(gz ? "gz" : "raw"));
        QCOMPARE(ds.train.count(), 5);
        QCOMPARE(ds.test.count(), 2);
        QCOMPARE(ds.featureShape(), (Shape{1, 4, 3}));
        QVERIFY(ds.labelShape().empty());
        QCOMPARE(toString(ds.elementType), toString(ElementType::U8));
        QCOMPARE(ds.classes, (std::vector<std::string>{"0", "1", "2"}));
        // Sample 3, pixel (r=2, c=1) = (3*7 + 2*3 + 1) % 256 = 28; label 3 % 3 = 0.
        QCOMPARE(ds.train.features(3)[2 * 3 + 1], 28.0f);
        QCOMPARE(ds.train.label(3), 0);
        QCOMPARE(ds.train.label(4), 1);
        QCOMPARE(ds.test.features(1)[0], 7.0f);
        // Normalization fitted on the training split: one channel.
        QCOMPARE(toString(ds.normalization.kind), toString(NormalizationKind::PerChannel));
        QCOMPARE(ds.normalization.mean.size(), std::size_t(1));
        double sum = 0;
        for (float v : ds.train.allFeatures()) sum += v;
        QVERIFY(qAbs(ds.normalization.mean[0] - sum / double(ds.train.allFeatures().size())) < 1e-3);
    }

    void headerOnly() {
        const QString dir = writeSet("header", true, 9, 2);
        const IdxHeader h = readIdxHeader(dir + "/train-images-idx3-ubyte.gz");
        QCOMPARE(h.type, std::uint8_t(0x08));
        QCOMPARE(h.dims, (std::vector<std::int64_t>{9, 4, 3}));
    }

    void errors() {
        const QString dir = writeSet("errors", false);
        const QString images = dir + "/train-images-idx3-ubyte", labelsPath = dir + "/train-labels-idx1-ubyte";
        const QByteArray good = readFile(images);

        // Truncated data: the header promises 5 images of 12 bytes.
        writeFile(dir + "/trunc", good.left(good.size() - 13));
        expectError([&] { readIdxSamples(dir + "/trunc", labelsPath); },
                    {"trunc", "truncated", "sample 3 is the first incomplete"});

        // Wrong magic.
        QByteArray bad = good;
        bad[0] = char(0x1f);
        bad[1] = char(0x00);
        writeFile(dir + "/magic", bad);
        expectError([&] { readIdxSamples(dir + "/magic", labelsPath); },
                    {"magic", "wrong magic number at byte 0", "0x1f"});

        // Truncated gzip stream.
        const QByteArray gz = gzip(good);
        writeFile(dir + "/cut.gz", gz.left(gz.size() / 2));
        expectError([&] { readIdxSamples(dir + "/cut.gz", labelsPath); }, {"cut.gz", "gzip stream is truncated"});

        // Corrupt gzip stream (flipped bytes in the middle).
        QByteArray flipped = gz;
        for (qsizetype i = 12; i < flipped.size() - 8; ++i) flipped[i] = char(~flipped[i]);
        writeFile(dir + "/flip.gz", flipped);
        expectError([&] { readIdxSamples(dir + "/flip.gz", labelsPath); }, {"flip.gz", "gzip"});

        // Label count mismatch.
        writeFile(dir + "/labels4", idxU8({4}, labels(4)));
        expectError([&] { readIdxSamples(images, dir + "/labels4"); },
                    {"holds 5 samples", "labels4", "holds 4 labels"});

        // Images and labels swapped.
        expectError([&] { readIdxSamples(labelsPath, images); }, {"one dimension", "swap"});

        // Trailing garbage.
        writeFile(dir + "/long", good + QByteArray(3, 'x'));
        expectError([&] { readIdxSamples(dir + "/long", labelsPath); }, {"3 unexpected bytes"});

        // Missing file in a folder.
        QFile::remove(dir + "/t10k-labels-idx1-ubyte");
        expectError([&] { importIdxDirectory(dir); }, {"t10k-labels-idx1-ubyte[.gz] is missing"});

        // More labels than class names.
        const QString named = writeSet("named", false);
        IdxImportOptions options;
        options.classNames = {"a", "b"};
        expectError([&] { importIdxDirectory(named, options); }, {"label 2", "2 class names"});
    }

    // Each dimension of an IDX header is below 2^32, but their product is not: 1 x 2^31 x 2^31 x 4 bytes
    // is 2^64, which wrapped to 0 and passed the size check with a header-only file; the importer
    // then aborted (the CLI with it). Now it is an error naming the file and the dimensions.
    void craftedHeaderCannotWrapTheSizeCheck() {
        const QString dir = writeSet("crafted", false);
        const QString crafted = dir + "/train-images-idx3-ubyte";
        writeFile(crafted, idxU8({1, 0x80000000u, 0x80000000u, 4}, {}));
        writeFile(dir + "/train-labels-idx1-ubyte", idxU8({1}, {0}));
        expectError([&] { readIdxSamples(crafted, dir + "/train-labels-idx1-ubyte"); },
                    {"train-images-idx3-ubyte", "[1,2147483648,2147483648,4]", "more than 2^63 bytes"});
        expectError([&] { importIdxDirectory(dir); }, {"more than 2^63 bytes"});
        // A product that fits but exceeds the file is the usual truncation error.
        writeFile(crafted, idxU8({1, 0x80000000u, 0x80000000u}, {}));
        expectError([&] { readIdxSamples(crafted, dir + "/train-labels-idx1-ubyte"); }, {"truncated"});
    }

    // A label read from a file decides how many classes a dataset has: 2^31 - 1 (an i32 label file)
    // overflowed "max label + 1" and would have named two billion classes. Above kMaxClasses it is
    // an error naming the labels file.
    void labelsBeyondTheClassLimitAreRefused() {
        const QString dir = writeSet("biglabel", false);
        QByteArray labels32("\0\0\x0c\x01", 4);
        appendBigEndian32(labels32, 5);
        for (std::uint32_t v : {0u, 1u, 0x7fffffffu, 2u, 1u}) appendBigEndian32(labels32, v);
        writeFile(dir + "/train-labels-idx1-ubyte", labels32);
        expectError([&] { importIdxDirectory(dir); },
                    {"train-labels-idx1-ubyte", "label 2147483647", "more than Raven's limit of 1048576"});
    }
};

QTEST_GUILESS_MAIN(TestIdx)
#include "tst_Idx.moc"
