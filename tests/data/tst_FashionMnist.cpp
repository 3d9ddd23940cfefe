// The real Fashion-MNIST files from Debian's dataset-fashion-mnist package, when installed: headers
// and a few samples only, so that the test stays quick.
#include "Fixtures.h"
#include "data/IdxImporter.h"

#include <QtTest>

using namespace raven::data;
using namespace raven::testing;

class TestFashionMnist : public QObject {
    Q_OBJECT

    const QString dir_ = QStringLiteral("/usr/share/datasets/fashion-mnist");

private slots:
    void initTestCase() {
        if (!QFileInfo::exists(dir_ + "/train-images-idx3-ubyte.gz")) QSKIP("dataset-fashion-mnist is not installed");
    }

    void headers() {
        const IdxFiles files = findIdxFiles(dir_);
        QCOMPARE(readIdxHeader(files.trainImages).dims, (std::vector<std::int64_t>{60000, 28, 28}));
        QCOMPARE(readIdxHeader(files.trainLabels).dims, (std::vector<std::int64_t>{60000}));
        QCOMPARE(readIdxHeader(files.testImages).dims, (std::vector<std::int64_t>{10000, 28, 28}));
        QCOMPARE(readIdxHeader(files.testLabels).dims, (std::vector<std::int64_t>{10000}));
        QCOMPARE(readIdxHeader(files.trainImages).type, std::uint8_t(0x08));
    }

    // The test split is small enough (4.4 MB gzipped) to read whole in well under a second.
    void testSplitSamples() {
        const IdxFiles files = findIdxFiles(dir_);
        ElementType type{};
        const Samples test = readIdxSamples(files.testImages, files.testLabels, &type);
        QCOMPARE(toString(type), toString(ElementType::U8));
        QCOMPARE(test.count(), 10000);
        QCOMPARE(test.featureShape(), (Shape{1, 28, 28}));
        std::vector<int> perClass(10);
        for (auto y : test.allLabels()) {
            QVERIFY(y >= 0 && y < 10);
            ++perClass[std::size_t(y)];
        }
        for (int c : perClass) QCOMPARE(c, 1000);  // Fashion-MNIST's test split is balanced
        // The first test image is an ankle boot (label 9); its pixels are bytes with a dark border.
        QCOMPARE(test.label(0), 9);
        QCOMPARE(fashionMnistClassNames()[9], std::string("Ankle boot"));
        const auto first = test.features(0);
        QCOMPARE(first[0], 0.0f);
        QVERIFY(*std::max_element(first.begin(), first.end()) > 200.0f);
    }
};

QTEST_GUILESS_MAIN(TestFashionMnist)
#include "tst_FashionMnist.moc"
