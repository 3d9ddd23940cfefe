// CSV importer: headers, label columns by name and index, string class names, quoting, the seeded
// split, and errors that point at the line and column.
#include "Fixtures.h"
#include "data/CsvImporter.h"

#include <QTemporaryDir>
#include <QtTest>

#include <set>

using namespace raven::data;
using namespace raven::testing;

class TestCsv : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    QString write(const QString& name, const QByteArray& text) {
        writeFile(tmp_.filePath(name), text);
        return tmp_.filePath(name);
    }
    // All samples of both splits, keyed by their first feature, with their class name.
    static std::map<float, std::pair<std::vector<float>, std::string>> bySample(const Dataset& ds) {
        std::map<float, std::pair<std::vector<float>, std::string>> out;
        for (const Samples* s : {&ds.train, &ds.test})
            for (std::int64_t i = 0; i < s->count(); ++i) {
                const auto f = s->features(i);
                out[f[0]] = {std::vector<float>(f.begin(), f.end()), ds.classes[static_cast<std::size_t>(s->label(i))]};
            }
        return out;
    }

private slots:
    void headerAndClassNames() {
        const QString path = write("iris.csv",
                                   "\xEF\xBB\xBFsepal,petal,species\r\n1.5,2,virginica\r\n2.5,-3e-1,setosa\r\n\r\n3.5,+"
                                   "4,virginica\r\n4.5,5,\"versi, color\"\r\n");
        CsvImportOptions o;
        o.testFraction = 0.25;
        const Dataset ds = importCsv(path, o);
        QCOMPARE(ds.name, std::string("iris"));
        QCOMPARE(ds.featureShape(), (Shape{2}));
        QCOMPARE(ds.classes, (std::vector<std::string>{"setosa", "versi, color", "virginica"}));
        QCOMPARE(ds.train.count(), 3);
        QCOMPARE(ds.test.count(), 1);
        const auto all = bySample(ds);
        QCOMPARE(all.at(1.5f).second, std::string("virginica"));
        QCOMPARE(all.at(2.5f).first, (std::vector<float>{2.5f, -0.3f}));
        QCOMPARE(all.at(3.5f).first[1], 4.0f);
        QCOMPARE(all.at(4.5f).second, std::string("versi, color"));
        QCOMPARE(ds.normalization.mean.size(), std::size_t(2));  // one per column
    }

    void labelColumns_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("labelColumn");
        QTest::newRow("no header, last") << QByteArray("1,2,0\n3,4,2\n5,6,1\n") << "";
        QTest::newRow("no header, index 0") << QByteArray("0,1,2\n2,3,4\n1,5,6\n") << "0";
        QTest::newRow("header, named 'label'") << QByteArray("x,Label,y\n1,0,2\n3,2,4\n5,1,6\n") << "";
        QTest::newRow("header, by name") << QByteArray("x,cls,y\n1,0,2\n3,2,4\n5,1,6\n") << "cls";
        QTest::newRow("header, by index") << QByteArray("x,y,k\n1,2,0\n3,4,2\n5,6,1\n") << "2";
    }
    void labelColumns() {
        QFETCH(QByteArray, text);
        QFETCH(QString, labelColumn);
        CsvImportOptions o;
        o.labelColumn = labelColumn.toStdString();
        o.testFraction = 0;
        const Dataset ds = importCsv(write("labels.csv", text), o);
        QCOMPARE(ds.classes, (std::vector<std::string>{"0", "1", "2"}));
        QCOMPARE(ds.train.count(), 3);
        QCOMPARE(ds.test.count(), 0);
        const auto all = bySample(ds);
        QCOMPARE(all.size(), std::size_t(3));
        QCOMPARE(all.at(3).second, std::string("2"));
        QCOMPARE(all.at(5).first, (std::vector<float>{5, 6}));
    }

    void seededSplitIsDeterministic() {
        QByteArray text;
        for (int i = 0; i < 100; ++i) text += QByteArray::number(i) + "," + QByteArray::number(i % 4) + "\n";
        const QString path = write("many.csv", text);
        CsvImportOptions o;
        o.testFraction = 0.2;
        const Dataset a = importCsv(path, o), b = importCsv(path, o);
        QCOMPARE(a.test.count(), 20);
        QVERIFY(a.train == b.train && a.test == b.test);
        o.seed = 2;
        const Dataset c = importCsv(path, o);
        QVERIFY(!(a.test == c.test));
        std::set<float> seen;
        for (const Samples* s : {&a.train, &a.test})
            for (float v : s->allFeatures()) seen.insert(v);
        QCOMPARE(seen.size(), std::size_t(100));  // a partition: nothing lost, nothing doubled
    }

    void errors() {
        expectError([&] { importCsv(write("bad.csv", "a,b,label\n1,2,0\n3,4,1\n5,x7,0\n")); },
                    {"bad.csv:4, column 2 ('b'): 'x7' is not a number"});
        expectError([&] { importCsv(write("fields.csv", "1,2,0\n3,4,1\n\n5,0\n")); },
                    {"fields.csv:4: 2 fields, but the first line has 3"});
        expectError([&] { importCsv(write("empty.csv", "1,,0\n")); }, {"empty.csv:1, column 2", "'' is not a number"});
        CsvImportOptions named;
        named.labelColumn = "target";
        expectError([&] { importCsv(write("noname.csv", "a,b,label\n1,2,0\n"), named); },
                    {"no column named 'target'", "a, b, label"});
        named.header = CsvHeader::Absent;
        expectError([&] { importCsv(write("nohead.csv", "1,2,0\n"), named); }, {"no header"});
        expectError([&] { importCsv(write("quote.csv", "1,\"2,0\n")); }, {"quote.csv:1", "quoted field"});
        expectError([&] { importCsv(tmp_.filePath("missing.csv")); }, {"missing.csv: no such file"});
        expectError([&] { importCsv(write("nan.csv", "1,2,0\n1,nan,0\n")); }, {"nan.csv:2, column 2"});
    }
};

QTEST_GUILESS_MAIN(TestCsv)
#include "tst_Csv.moc"
