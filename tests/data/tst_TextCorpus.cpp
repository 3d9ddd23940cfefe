// Text corpus importer: vocabulary, next-token windows, UTF-8 handling, and errors.
#include "Fixtures.h"
#include "data/TextCorpusImporter.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace raven::data;
using namespace raven::testing;

class TestTextCorpus : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;

private slots:
    void windowsPredictTheNextCharacter() {
        // A generated text with multi-byte characters (é is 2 bytes, ☃ is 3, 🦊 is 4).
        const char* tokens[] = {"a", "b", "c", "é", "☃", "🦊", " "};
        QByteArray text;
        for (int i = 0; i < 300; ++i) text += tokens[(i * 3 + i / 7) % 7];
        const QString path = tmp_.filePath("corpus.txt");
        writeFile(path, text);
        TextCorpusImportOptions o;
        o.contextLength = 8;
        o.testFraction = 0;
        const Dataset ds = importTextCorpus(path, o);
        QCOMPARE(ds.name, std::string("corpus"));
        QCOMPARE(ds.featureShape(), (Shape{8}));
        QCOMPARE(ds.labelShape(), (Shape{8}));
        QCOMPARE(toString(ds.normalization.kind), toString(NormalizationKind::None));
        QCOMPARE(toString(ds.elementType), toString(ElementType::U8));

        const auto chars = decodeUtf8(text, "t");
        std::vector<char32_t> vocab = chars;
        std::sort(vocab.begin(), vocab.end());
        vocab.erase(std::unique(vocab.begin(), vocab.end()), vocab.end());
        QCOMPARE(ds.classes.size(), vocab.size());
        QCOMPARE(ds.classes.back(), std::string("🦊"));
        QCOMPARE(ds.classes.front(), std::string(" "));
        QCOMPARE(ds.train.count(), std::int64_t((chars.size() - 1 - 8) / 8 + 1));

        // Every window decodes back to the text, and its labels are the text shifted by one.
        std::vector<bool> covered(static_cast<std::size_t>(ds.train.count()));
        for (std::int64_t i = 0; i < ds.train.count(); ++i) {
            std::u32string in, next;
            for (float id : ds.train.features(i)) in += vocab[std::size_t(id)];
            for (auto id : ds.train.labels(i)) next += vocab[std::size_t(id)];
            const std::u32string all(chars.begin(), chars.end());
            const auto at = all.find(in + next.back());
            QVERIFY(at != std::u32string::npos);
            QCOMPARE(in.substr(1), next.substr(0, 7));
        }
    }

    void strideAndSplit() {
        QByteArray text(1000, 'x');
        for (int i = 0; i < 1000; i += 3) text[i] = 'y';
        TextCorpusImportOptions o;
        o.contextLength = 16;
        o.stride = 4;
        o.testFraction = 0.1;
        const Dataset ds = textCorpusDataset(text, "mem", o);
        const std::int64_t windows = (1000 - 1 - 16) / 4 + 1;
        QCOMPARE(ds.train.count() + ds.test.count(), windows);
        QCOMPARE(ds.test.count(), std::int64_t(std::llround(0.1 * double(windows))));
        QCOMPARE(ds.classes, (std::vector<std::string>{"x", "y"}));
    }

    void errors() {
        QByteArray bad = "line one\nline two \xC3\x28 here\n";
        expectError([&] { textCorpusDataset(bad, "bad.txt", {.contextLength = 4}); },
                    {"bad.txt: invalid UTF-8 at byte 18 (line 2)"});
        expectError([&] { textCorpusDataset("abc", "short.txt", {.contextLength = 8}); },
                    {"short.txt", "3 characters"});
        expectError([&] { textCorpusDataset("\xED\xA0\x80xyzxyzxyz", "surrogate.txt", {.contextLength = 2}); },
                    {"byte 0"});
        expectError([&] { importTextCorpus(tmp_.filePath("none.txt")); }, {"none.txt: no such file"});
    }
};

QTEST_GUILESS_MAIN(TestTextCorpus)
#include "tst_TextCorpus.moc"
