// Image folder importer on PNG and JPEG files drawn by the test: class order, resizing, channel
// layout, and the error for a file that is not an image.
#include "Fixtures.h"
#include "data/ImageFolderImporter.h"

#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

using namespace raven::data;
using namespace raven::testing;

class TestImageFolder : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    QString root_;

    static void save(const QString& path, QSize size, QColor color, const char* format = "PNG") {
        QDir().mkpath(QFileInfo(path).absolutePath());
        QImage image(size, QImage::Format_RGB32);
        image.fill(color);
        QVERIFY(image.save(path, format));
    }

private slots:
    void initTestCase() {
        root_ = tmp_.filePath("pets");
        // Code-point order: "Bee" < "ant" < "cat". Sizes differ and are not the target size.
        save(root_ + "/cat/b.png", {8, 6}, QColor(200, 100, 50));
        save(root_ + "/cat/a.png", {3, 9}, QColor(10, 20, 30));
        save(root_ + "/ant/1.png", {4, 4}, QColor(0, 255, 0));
        save(root_ + "/Bee/x.jpg", {16, 16}, QColor(128, 128, 128), "JPEG");
        writeFile(root_ + "/ant/readme.txt", "not an image, and not named like one");
        QDir().mkpath(root_ + "/empty");
    }

    void rgb() {
        ImageFolderImportOptions o;
        o.width = 5;
        o.height = 4;
        o.grayscale = false;
        o.testFraction = 0;
        const Dataset ds = importImageFolder(root_, o);
        QCOMPARE(ds.name, std::string("pets"));
        QCOMPARE(ds.classes, (std::vector<std::string>{"Bee", "ant", "cat"}));
        QCOMPARE(ds.featureShape(), (Shape{3, 4, 5}));
        QCOMPARE(toString(ds.elementType), toString(ElementType::U8));
        QCOMPARE(ds.train.count(), 4);
        int cats = 0;
        for (std::int64_t i = 0; i < ds.train.count(); ++i) {
            const auto f = ds.train.features(i);
            if (ds.train.label(i) == 2 && f[0] == 200.0f) {
                ++cats;
                // Channels first: the whole red plane, then green, then blue.
                for (int p = 0; p < 20; ++p) {
                    QCOMPARE(f[p], 200.0f);
                    QCOMPARE(f[20 + p], 100.0f);
                    QCOMPARE(f[40 + p], 50.0f);
                }
            }
            if (ds.train.label(i) == 0) QVERIFY(qAbs(f[7] - 128.0f) <= 3.0f);  // JPEG is lossy
            if (ds.train.label(i) == 1) QCOMPARE(f[20 + 7], 255.0f);
        }
        QCOMPARE(cats, 1);
        QCOMPARE(ds.normalization.mean.size(), std::size_t(3));
    }

    // The size the console and `raven dataset import` keep when none is asked for: the first image's
    // in the importer's order ("Bee" comes first by code point: its 16x16 JPEG).
    void theImagesOwnSize() {
        QCOMPARE(imageFolderSize(root_), (std::pair<int, int>(16, 16)));
        QDir().mkpath(tmp_.filePath("blank/none"));
        expectError([&] { imageFolderSize(tmp_.filePath("blank")); }, {"no readable image"});
    }

    void grayscaleAndSplit() {
        ImageFolderImportOptions o;
        o.width = 2;
        o.height = 2;
        o.testFraction = 0.25;
        const Dataset ds = importImageFolder(root_, o);
        QCOMPARE(ds.featureShape(), (Shape{1, 2, 2}));
        QCOMPARE(ds.train.count(), 3);
        QCOMPARE(ds.test.count(), 1);
        QImage one(1, 1, QImage::Format_RGB32);
        one.fill(QColor(0, 255, 0));
        const float green = one.convertToFormat(QImage::Format_Grayscale8).constScanLine(0)[0];
        bool found = false;
        for (const Samples* s : {&ds.train, &ds.test})
            for (std::int64_t i = 0; i < s->count(); ++i)
                if (s->label(i) == 1) {
                    QCOMPARE(s->features(i)[3], green);
                    found = true;
                }
        QVERIFY(found);
        const Dataset again = importImageFolder(root_, o);
        QVERIFY(again.train == ds.train && again.test == ds.test);
    }

    void errors() {
        const QString bad = tmp_.filePath("bad");
        save(bad + "/a/ok.png", {2, 2}, Qt::white);
        writeFile(bad + "/b/broken.png", "this is not a PNG");
        expectError([&] { importImageFolder(bad); }, {"broken.png", "cannot be read as an image"});
        expectError([&] { importImageFolder(tmp_.filePath("nowhere")); }, {"nowhere: no such directory"});
        QDir().mkpath(tmp_.filePath("flat"));
        expectError([&] { importImageFolder(tmp_.filePath("flat")); }, {"no class sub-folders"});
    }
};

QTEST_GUILESS_MAIN(TestImageFolder)
#include "tst_ImageFolder.moc"
