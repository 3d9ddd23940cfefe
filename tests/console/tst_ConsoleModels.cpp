// The console's engines, services and item models without the window: importing (good files, a
// broken one, cancel), previews, the model document and its layer table (edits, problems at the
// layer, the summary's figures), the cost estimate and settings checks, the job history on disk,
// and the confusion matrix of a real evaluation. Every item model runs under
// QAbstractItemModelTester, which checks each signal and answer against the model's contract.
#include <QAbstractItemModelTester>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFont>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <cmath>
#include <limits>
#include <random>
#include <span>

#include "ConfigDiffModel.h"
#include "ConfusionMatrixModel.h"
#include "ConnectionService.h"
#include "CoordinatorAtFixedPort.h"
#include "CostEstimate.h"
#include "CreditsSpinBox.h"
#include "CreditsText.h"
#include "DatasetLibrary.h"
#include "DatasetListModel.h"
#include "Evaluation.h"
#include "JobHistory.h"
#include "JobSettings.h"
#include "LayerTableModel.h"
#include "ModelDocument.h"
#include "ModelExport.h"
#include "OnnxExport.h"
#include "RateSpinBox.h"
#include "SamplePreviewModel.h"
#include "base/Error.h"
#include "checkpoint/Checkpoint.h"
#include "coordinator/Coordinator.h"
#include "data/ShardStore.h"
#include "nn/Model.h"
#include "nn/ModelCheckpoint.h"
#include "nn/ModelSpec.h"

using namespace raven::console;

namespace {

const QString kFashion = QStringLiteral("/usr/share/datasets/fashion-mnist");

void writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

// Imports through the library's background path and waits for the outcome; returns the new row.
int importAndWait(DatasetLibrary& library, const ImportRequest& request, QString* failure = nullptr) {
    QSignalSpy done(&library, &DatasetLibrary::imported);
    QSignalSpy failed(&library, &DatasetLibrary::importFailed);
    library.startImport(request);
    if (!QTest::qWaitFor([&] { return !done.isEmpty() || !failed.isEmpty(); }, 60000)) return -2;
    if (!failed.isEmpty()) {
        if (failure) *failure = failed.first().at(0).toString() + " / " + failed.first().at(1).toString();
        return -1;
    }
    return done.first().at(0).toInt();
}

ImportRequest fashionSubset(int train, int test) {
    ImportRequest r;
    r.format = DatasetFormat::Idx;
    r.sources = {kFashion};
    r.name = "fashion";
    r.maxTrainSamples = train;
    r.maxTestSamples = test;
    return r;
}

// A real full disk: a tmpfs of `kilobytes` mounted on `path` while it lives (needs CAP_SYS_ADMIN, as
// root in CI's container; mounted() says whether it could).
class TinyDisk {
public:
    TinyDisk(const QString& path, int kilobytes) : path_(path) {
        QDir().mkpath(path);
        mounted_ =
            QProcess::execute("mount", {"-t", "tmpfs", "-o", QString("size=%1k").arg(kilobytes), "tmpfs", path}) == 0;
    }
    ~TinyDisk() {
        if (mounted_) QProcess::execute("umount", {path_});
    }
    bool mounted() const { return mounted_; }

private:
    QString path_;
    bool mounted_ = false;
};

}  // namespace

class ConsoleModelsTest : public QObject {
    Q_OBJECT
private slots:
    void importsCsvAndListsIt() {
        QTemporaryDir dir;
        writeFile(dir.filePath("iris.csv"),
                  "a,b,species\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,10,x\n11,12,y\n13,14,x\n"
                  "15,16,y\n17,18,x\n19,20,y\n");
        DatasetLibrary library(dir.filePath("library"));
        DatasetListModel list(library);
        QAbstractItemModelTester tester(&list, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(list.rowCount(), 0);
        ImportRequest r;
        r.format = DatasetFormat::Csv;
        r.sources = {dir.filePath("iris.csv")};
        r.testFraction = 0.2;
        QString failure;
        const int row = importAndWait(library, r, &failure);
        QVERIFY2(row == 0, qPrintable(failure));
        QCOMPARE(list.rowCount(), 1);
        QCOMPARE(list.index(0, DatasetListModel::Name).data().toString(), QString("iris"));
        QCOMPARE(list.index(0, DatasetListModel::Shape).data().toString(), QString("[2]"));
        QCOMPARE(list.index(0, DatasetListModel::Classes).data().toInt(), 2);
        QCOMPARE(list.index(0, DatasetListModel::Samples).data().toString(), QString("8 train, 2 test"));

        // The CSV preview is a table: both features and the label.
        QSignalSpy ready(&library, &DatasetLibrary::previewReady);
        library.loadPreview(0);
        QVERIFY(ready.wait(20000));
        SamplePreviewModel samples;
        QAbstractItemModelTester sampleTester(&samples, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const auto preview = ready.first().at(0).value<DatasetPreview>();
        samples.setPreview(preview);
        QCOMPARE(preview.kind, PreviewKind::Table);
        QCOMPARE(samples.rowCount(), 8);
        QCOMPARE(samples.columnCount(), 3);
        QCOMPARE(samples.headerData(2, Qt::Horizontal).toString(), QString("Label"));
        QCOMPARE(preview.trainPerClass[0] + preview.trainPerClass[1], 8);
        QCOMPARE(preview.shardCount(), 2);
        QVERIFY(preview.shardBytes > 0);

        // A library opened later finds the dataset on disk.
        DatasetLibrary again(dir.filePath("library"));
        QCOMPARE(int(again.datasets().size()), 1);
        QCOMPARE(again.datasets()[0].manifest.id, library.datasets()[0].manifest.id);
    }

    void importsTextAndNumpy() {
        QTemporaryDir dir;
        writeFile(dir.filePath("poem.txt"), QByteArray("the quick brown fox jumps over the lazy dog. ").repeated(20));
        // x: 10 samples of 3 float32 features; y: their classes 0..2 as int64 (np.save's layout).
        auto npy = [](const char* descr, const char* shape, const QByteArray& data) {
            QByteArray header =
                QByteArray("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
            while ((10 + header.size() + 1) % 64) header += ' ';
            header += '\n';
            QByteArray out("\x93NUMPY\x01\x00", 8);
            out += char(header.size() & 0xff);
            out += char(header.size() >> 8);
            return out + header + data;
        };
        QByteArray x, y;
        for (int i = 0; i < 10; ++i) {
            for (int f = 0; f < 3; ++f) {
                const float v = float(i * 3 + f);
                x.append(reinterpret_cast<const char*>(&v), 4);
            }
            const qint64 label = i % 3;
            y.append(reinterpret_cast<const char*>(&label), 8);
        }
        writeFile(dir.filePath("x.npy"), npy("<f4", "(10, 3)", x));
        writeFile(dir.filePath("y.npy"), npy("<i8", "(10,)", y));
        DatasetLibrary library(dir.filePath("library"));
        ImportRequest text;
        text.format = DatasetFormat::TextCorpus;
        text.sources = {dir.filePath("poem.txt")};
        text.contextLength = 16;
        QString failure;
        int row = importAndWait(library, text, &failure);
        QVERIFY2(row >= 0, qPrintable(failure));
        const DatasetPreview p = buildPreview(library.datasets()[std::size_t(row)].path);
        QCOMPARE(p.kind, PreviewKind::Text);
        QVERIFY2(p.text.contains("fox") || p.text.contains("lazy"), qPrintable(p.text));
        QCOMPARE(p.manifest.featureShape, (raven::data::Shape{16}));
        ImportRequest numpy;
        numpy.format = DatasetFormat::Npy;
        numpy.sources = {dir.filePath("x.npy"), dir.filePath("y.npy")};
        numpy.testFraction = 0.2;
        row = importAndWait(library, numpy, &failure);
        QVERIFY2(row >= 0, qPrintable(failure));
        const auto& m = library.datasets()[std::size_t(row)].manifest;
        QCOMPARE(m.featureShape, (raven::data::Shape{3}));
        QCOMPARE(m.train.samples + m.test.samples, 10);
        QCOMPARE(int(m.classes.size()), 3);
    }

    void brokenFilesSayWhereAndKeepNothing() {
        QTemporaryDir dir;
        writeFile(dir.filePath("bad.csv"), "a,b,label\n1,2,0\n3,oops,1\n");
        writeFile(dir.filePath("x.npy"), "not a numpy file at all");
        DatasetLibrary library(dir.filePath("library"));
        ImportRequest csv;
        csv.format = DatasetFormat::Csv;
        csv.sources = {dir.filePath("bad.csv")};
        QString failure;
        QCOMPARE(importAndWait(library, csv, &failure), -1);
        QVERIFY2(failure.contains("bad.csv:3, column 2"), qPrintable(failure));
        ImportRequest npy;
        npy.format = DatasetFormat::Npy;
        npy.sources = {dir.filePath("x.npy"), dir.filePath("x.npy")};
        QCOMPARE(importAndWait(library, npy, &failure), -1);
        QVERIFY2(failure.contains("x.npy"), qPrintable(failure));
        ImportRequest none;
        none.format = DatasetFormat::Npy;
        none.sources = {dir.filePath("x.npy")};
        QCOMPARE(importAndWait(library, none, &failure), -1);
        QVERIFY2(failure.contains("two files"), qPrintable(failure));
        QVERIFY(library.datasets().empty());
        QVERIFY(QDir(library.root()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).isEmpty());
    }

    void cancelledImportKeepsNothing() {
        QTemporaryDir dir;
        DatasetLibrary library(dir.filePath("library"));
        QSignalSpy cancelled(&library, &DatasetLibrary::importCancelled);
        QSignalSpy imported(&library, &DatasetLibrary::imported);
        library.startImport(fashionSubset(0, 0));
        QVERIFY(library.isImporting());
        library.cancelImport();
        QVERIFY(QTest::qWaitFor([&] { return !cancelled.isEmpty() || !imported.isEmpty(); }, 60000));
        QCOMPARE(cancelled.count(), 1);
        QVERIFY(library.datasets().empty());
        QVERIFY(QDir(library.root()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).isEmpty());
    }

    // The import says how far it is: busy (-1) while the files are read, then the percentage of the
    // shards written, up to 100; Cancel in the middle of the shards keeps nothing.
    void importReportsPercentAndCancelsMidway() {
        QTemporaryDir dir;
        DatasetLibrary library(dir.filePath("library"));
        QSignalSpy progress(&library, &DatasetLibrary::importProgress);
        QVERIFY(importAndWait(library, fashionSubset(512, 128)) == 0);
        QVERIFY(progress.count() >= 3);
        QCOMPARE(progress.first().at(0).toInt(), -1);
        QCOMPARE(progress.last().at(0).toInt(), 100);
        for (int i = 2; i < progress.count(); ++i)
            QVERIFY(progress.at(i).at(0).toInt() > progress.at(i - 1).at(0).toInt());

        DatasetLibrary other(dir.filePath("other"));
        QSignalSpy cancelled(&other, &DatasetLibrary::importCancelled);
        int seen = -1;
        connect(&other, &DatasetLibrary::importProgress, this, [&](int percent) {
            if (percent >= 10 && seen < 10) other.cancelImport();
            seen = percent;
        });
        other.startImport(fashionSubset(8192, 1024));
        QVERIFY(QTest::qWaitFor([&] { return !cancelled.isEmpty() || !other.isImporting(); }, 60000));
        QCOMPARE(cancelled.count(), 1);
        QVERIFY2(seen >= 10, qPrintable(QString::number(seen)));  // cancelled while the shards were written
        QVERIFY(other.datasets().empty());
        QVERIFY(QDir(other.root()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).isEmpty());
    }

    void imagePreviewAndTheirOwnSize() {
        QTemporaryDir dir;
        // 16x12 images in two classes keep their size unless one is chosen.
        for (const char* cls : {"cat", "dog"}) {
            QDir(dir.path()).mkpath(QString("pics/") + cls);
            for (int i = 0; i < 6; ++i) {
                QImage image(16, 12, QImage::Format_RGB32);
                image.fill(QColor(cls[0] == 'c' ? 200 : 20, 40 * i, 90));
                QVERIFY(image.save(dir.filePath(QString("pics/%1/%2.png").arg(cls).arg(i))));
            }
        }
        DatasetLibrary library(dir.filePath("library"));
        ImportRequest r;
        r.format = DatasetFormat::ImageFolder;
        r.sources = {dir.filePath("pics")};
        r.testFraction = 0.25;
        QString failure;
        const int row = importAndWait(library, r, &failure);
        QVERIFY2(row >= 0, qPrintable(failure));
        QCOMPARE(library.datasets()[std::size_t(row)].manifest.featureShape, (raven::data::Shape{1, 12, 16}));
        const DatasetPreview p = buildPreview(library.datasets()[std::size_t(row)].path);
        QCOMPARE(p.kind, PreviewKind::Images);
        QCOMPARE(p.images.front().size(), QSize(16, 12));
        SamplePreviewModel samples;
        QAbstractItemModelTester tester(&samples, QAbstractItemModelTester::FailureReportingMode::QtTest);
        samples.setPreview(p);
        QCOMPARE(samples.columnCount(), 1);
        QVERIFY(samples.index(0, 0).data(Qt::DecorationRole).value<QPixmap>().width() > 0);
        QVERIFY(QStringList({"cat", "dog"}).contains(samples.index(0, 0).data().toString()));
    }

    void layerTableFollowsTheDocument() {
        ModelDocument doc;
        LayerTableModel table(doc);
        QAbstractItemModelTester tester(&table, QAbstractItemModelTester::FailureReportingMode::QtTest);
        raven::data::Manifest fashion;
        fashion.featureShape = {1, 28, 28};
        fashion.classes = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
        doc.setDataset(fashion);
        doc.loadTemplate(ModelTemplate::Mlp);
        QVERIFY2(doc.check().ok(), qPrintable(doc.check().problem));
        QCOMPARE(table.rowCount(), 6);
        QCOMPARE(doc.check().parameters, 235146);  // 784*256+256 + 256*128+128 + 128*10+10
        QCOMPARE(table.index(1, LayerTableModel::Output).data().toString(), QString("[256]"));
        QCOMPARE(table.index(1, LayerTableModel::Parameters).data(Qt::EditRole).toLongLong(), 200960);
        QCOMPARE(doc.check().layers[1].flops, 2.0 * 784 * 256 + 256);  // multiply-adds, then the bias
        QCOMPARE(doc.check().layers[1].activationBytes, 256 * 4);

        // Editing a field in the form: the JSON follows, and a misfit is reported at its layer.
        QVERIFY(table.setData(table.index(5, LayerTableModel::Settings), "{\"out\": 12}"));
        QVERIFY(doc.text().contains("\"out\": 12"));
        QCOMPARE(doc.check().layer, 5);
        QVERIFY2(doc.check().problem.contains("10 classes"), qPrintable(doc.check().problem));
        QVERIFY(table.index(5, 0).data(Qt::ToolTipRole).toString().contains("10 classes"));
        QVERIFY(!table.index(4, 0).data(Qt::ToolTipRole).isValid());
        doc.setLayerField(5, "out", 10);
        QVERIFY(doc.check().ok());

        // A field the layer does not take is an error at that layer.
        QVERIFY(table.setData(table.index(1, LayerTableModel::Settings), "{\"out\": 256, \"outt\": 3}"));
        QCOMPARE(doc.check().layer, 1);
        QVERIFY2(doc.check().problem.contains("outt"), qPrintable(doc.check().problem));
        QVERIFY(!table.setData(table.index(1, LayerTableModel::Settings), "not json"));
        QVERIFY(table.setData(table.index(1, LayerTableModel::Settings), "{\"out\": 256}"));

        // Add, move and remove rows, as the buttons do.
        doc.insertLayer(2, QJsonObject{{"name", "drop"}, {"kind", "dropout"}, {"p", 0.1}});
        QCOMPARE(table.rowCount(), 7);
        QCOMPARE(table.index(2, LayerTableModel::Name).data().toString(), QString("drop"));
        doc.moveLayer(2, 3);
        QCOMPARE(table.index(3, LayerTableModel::Name).data().toString(), QString("drop"));
        QVERIFY2(doc.check().ok(), qPrintable(doc.check().problem));
        doc.removeLayer(3);
        QCOMPARE(table.rowCount(), 6);

        // Text that is not JSON keeps the last good spec; the problem names the line.
        const QString good = doc.text();
        doc.setText("{\n  \"name\": \"x\",\n  \"layers\": [\n");
        QVERIFY(doc.jsonProblem().startsWith("JSON line"));
        QCOMPARE(doc.text(), good);
        QCOMPARE(table.rowCount(), 6);
        // A shape that does not fit the dataset is a problem of the whole spec.
        QString wrongInput = good;
        wrongInput.replace("28", "32");
        doc.setText(wrongInput);
        QCOMPARE(doc.check().layer, -1);
        QVERIFY2(doc.check().problem.contains("[1,28,28]"), qPrintable(doc.check().problem));
    }

    void templatesFitTheDataset() {
        ModelDocument doc;
        raven::data::Manifest text;
        text.featureShape = {32};
        text.labelShape = {32};
        for (int i = 0; i < 40; ++i) text.classes.push_back(std::string(1, char('a' + i % 26)));
        doc.setDataset(text);
        doc.loadTemplate(ModelTemplate::TransformerLm);
        QVERIFY2(doc.check().ok(), qPrintable(doc.check().problem));
        QCOMPARE(doc.check().layers.back().outputShape, QString("[32,40]"));
        raven::data::Manifest small;
        small.featureShape = {3, 16, 16};
        small.classes = {"a", "b", "c"};
        doc.setDataset(small);
        doc.loadTemplate(ModelTemplate::Cnn);
        QVERIFY2(doc.check().ok(), qPrintable(doc.check().problem));
        QCOMPARE(doc.check().layers.back().outputShape, QString("[3]"));
    }

    // Credits read like money in both apps: the locale's grouping, only the decimals that matter;
    // the budget box shows them so and still takes a micro-credit.
    // A learning rate reads as it is written in the field ("0.001", "3e-05"), not "0.001000", and a
    // person may type it either way.
    void learningRatesReadAsWritten() {
        raven::console::RateSpinBox rate;
        rate.setLocale(QLocale(QLocale::English, QLocale::UnitedStates));
        rate.setRange(0.000001, 10);
        rate.setValue(0.001);
        QCOMPARE(rate.text(), QString("0.001"));
        rate.setValue(0.0003);
        QCOMPARE(rate.text(), QString("0.0003"));
        rate.setValue(0.00003);
        QCOMPARE(rate.text(), QString("3e-05"));
        rate.show();
        QVERIFY(QTest::qWaitForWindowExposed(&rate));
        rate.setFocus();
        const auto typed = [&rate](const char* text) {
            rate.selectAll();
            QTest::keyClicks(&rate, text);
            QTest::keyClick(&rate, Qt::Key_Return);
            return rate.value();
        };
        QCOMPARE(typed("3e-4"), 0.0003);
        QCOMPARE(rate.text(), QString("0.0003"));
        QCOMPARE(typed("0.01"), 0.01);
        QCOMPARE(typed("1E-6"), 0.000001);
        // Out of range or not a number: the value stays.
        QCOMPARE(typed("1e-9"), 0.000001);
        QCOMPARE(typed("abc"), 0.000001);
        // The arrow keys still step.
        rate.setSingleStep(0.0001);
        rate.setValue(0.001);
        QTest::keyClick(&rate, Qt::Key_Up);
        QCOMPARE(rate.text(), QString("0.0011"));
    }

    void creditsReadLikeMoney() {
        using raven::app::creditsAmount;
        const QLocale english(QLocale::English, QLocale::UnitedStates);
        QCOMPARE(creditsAmount(1'000'000'000'000, english), QString("1,000,000"));
        QCOMPARE(creditsAmount(10'000'000, english), QString("10"));
        QCOMPARE(creditsAmount(0, english), QString("0"));
        QCOMPARE(creditsAmount(12'345'600, english), QString("12.3456"));
        QCOMPARE(creditsAmount(1, english), QString("0.000001"));
        QCOMPARE(creditsAmount(1'234'567'890'123, english), QString("1,234,567.890123"));
        QCOMPARE(creditsAmount(-2'500'000'000, english), QString("-2,500"));
        QCOMPARE(creditsAmount(std::numeric_limits<qint64>::min(), english), QString("-9,223,372,036,854.775808"));
        QCOMPARE(creditsAmount(1'234'500'000, QLocale(QLocale::German, QLocale::Germany)), QString("1.234,5"));
        QCOMPARE(creditsAmount(1'000'000'000'000, QLocale::c()), QString("1,000,000"));  // grouped in "C" too

        raven::app::CreditsSpinBox budget;
        budget.setLocale(english);
        budget.setRange(0, 1e12);
        budget.setSuffix(" credits");
        budget.setValue(10);
        QCOMPARE(budget.text(), QString("10 credits"));
        budget.setValue(1'500'000.25);
        QCOMPARE(budget.text(), QString("1,500,000.25 credits"));
        QCOMPARE(budget.microCredits(), 1'500'000'250'000);
        // Typed as a person types it, separators and all, to the micro-credit.
        budget.show();
        QVERIFY(QTest::qWaitForWindowExposed(&budget));
        budget.setFocus();
        budget.selectAll();
        QTest::keyClicks(&budget, "2,000.000001");
        QTest::keyClick(&budget, Qt::Key_Return);
        QCOMPARE(budget.microCredits(), 2'000'000'001);
        QCOMPARE(budget.text(), QString("2,000.000001 credits"));
    }

    void costAndSettings() {
        const raven::ledger::CreditRate rate{2'000'000};  // 2 credits per 10^12 FLOPs
        const CostEstimate e = estimateCost(1e6, 1000, 3, 100, 0, rate);
        QCOMPARE(e.steps, 30);
        QCOMPARE(e.samples, 3000);
        QCOMPARE(e.microCredits, 6000);  // 3e9 FLOPs * 2e6 / 1e12
        const CostEstimate capped = estimateCost(1e6, 1000, 3, 100, 5, rate);
        QCOMPARE(capped.steps, 5);
        QCOMPARE(capped.samples, 500);

        raven::data::Manifest m;
        m.shardSize = 32;
        JobSettings s;
        s.batch = 100;
        s.budgetMicroCredits = 50'000'000;
        SettingsProblems p = checkSettings(s, m, 20'000'000);
        QVERIFY(p.batch.contains("multiple of 32"));
        QVERIFY(p.budget.contains("balance of 20 credits"));
        s.batch = 128;
        s.budgetMicroCredits = 10'000'000;
        QVERIFY(!checkSettings(s, m, 20'000'000).any());
        s.learningRate = -1;
        QVERIFY(!checkSettings(s, m, 20'000'000).learningRate.isEmpty());

        // The schedule's settings are checked beside the schedule, and travel on the wire.
        s.learningRate = 0.01;
        s.schedule = ScheduleChoice::StepDecay;
        s.decayFactor = 0;
        QVERIFY(checkSettings(s, m, 20'000'000).schedule.contains("decay factor"));
        s.decayFactor = 0.5;
        s.decayEvery = 25;
        QVERIFY(!checkSettings(s, m, 20'000'000).any());
        m.train.samples = 1024;
        m.train.shards.resize(32);
        auto h = makeCreateJob(s, m).hyperparameters();
        QCOMPARE(h.lr_schedule().kind(), raven::wire::LEARNING_RATE_SCHEDULE_KIND_STEP);
        QCOMPARE(h.lr_schedule().step_size(), std::uint64_t(25));
        QCOMPARE(h.lr_schedule().gamma(), 0.5);
        s.schedule = ScheduleChoice::WarmupCosine;
        s.minLearningRate = 0.02;
        QVERIFY(checkSettings(s, m, 20'000'000).schedule.contains("lower than the learning rate"));
        s.minLearningRate = 1e-4;
        s.warmupSteps = 8;  // 1,024 samples in batches of 128: one epoch is 8 steps
        QVERIFY(checkSettings(s, m, 20'000'000).schedule.contains("as long as the whole job (8 steps)"));
        s.epochs = 3;
        QVERIFY(!checkSettings(s, m, 20'000'000).any());
        h = makeCreateJob(s, m).hyperparameters();
        QCOMPARE(h.lr_schedule().kind(), raven::wire::LEARNING_RATE_SCHEDULE_KIND_COSINE);
        QCOMPARE(h.lr_schedule().warmup_steps(), std::uint64_t(8));
        QCOMPARE(h.lr_schedule().min_learning_rate(), 1e-4);
        QCOMPARE(describeJob(s, m, "mlp")["learning-rate schedule"].toString(),
                 QString("cosine to 0.0001 after 8 warm-up steps from ×0.01"));

        // How results are checked: the kernels and the aggregation on the wire, and the same words
        // back from what the coordinator says of the job.
        const QStringList checking = resultCheckingNames();
        QCOMPARE(makeCreateJob(s, m).hyperparameters().kernel_mode(), raven::wire::KERNEL_MODE_FAST);
        QCOMPARE(makeCreateJob(s, m).hyperparameters().aggregation(), raven::wire::AGGREGATION_MEAN);
        s.checking = ResultChecking::ClipOutliers;
        h = makeCreateJob(s, m).hyperparameters();
        QCOMPARE(h.kernel_mode(), raven::wire::KERNEL_MODE_FAST);
        QCOMPARE(h.aggregation(), raven::wire::AGGREGATION_CENTRED_CLIP);
        QVERIFY(!h.spot_check());
        s.checking = ResultChecking::SpotCheck;
        h = makeCreateJob(s, m).hyperparameters();
        QCOMPARE(h.kernel_mode(), raven::wire::KERNEL_MODE_FAST);
        QCOMPARE(h.aggregation(), raven::wire::AGGREGATION_CENTRED_CLIP);
        QVERIFY(h.spot_check());
        QCOMPARE(describeJob(s, m, "mlp")["result checks"].toString(), checking[int(ResultChecking::SpotCheck)]);
        s.checking = ResultChecking::Recompute;
        h = makeCreateJob(s, m).hyperparameters();
        QVERIFY(!h.spot_check());
        QCOMPARE(h.kernel_mode(), raven::wire::KERNEL_MODE_VERIFIABLE);
        QCOMPARE(h.aggregation(), raven::wire::AGGREGATION_MEAN);
        raven::wire::JobInfo info;
        *info.mutable_hyperparameters() = h;
        QCOMPARE(describeJob(info, {})["result checks"].toString(), checking[int(ResultChecking::Recompute)]);
        QCOMPARE(describeJob(s, m, "mlp")["result checks"].toString(), checking[int(ResultChecking::Recompute)]);
    }

    // Local steps on the submit form: what the coordinator would refuse is said beside the mode, and
    // the CreateJob carries the lanes, inner steps, inner batch and staleness, described alike from
    // the settings and from the coordinator's JobInfo.
    void localStepsSettingsBecomeTheJobsPlan() {
        raven::data::Manifest m;
        m.shardSize = 32;
        m.train.samples = 1024;
        JobSettings s;
        s.budgetMicroCredits = 5'000'000;
        s.mode = TrainingMode::LocalSteps;
        s.lanes = 2;
        s.innerSteps = 4;
        s.innerBatch = 64;
        s.staleness = 1;
        QVERIFY(!checkSettings(s, m, -1).any());
        QCOMPARE(samplesPerStep(s), 2 * 4 * 64);
        const raven::wire::CreateJob job = makeCreateJob(s, m);
        QCOMPARE(job.hyperparameters().local_steps().lanes(), 2u);
        QCOMPARE(job.hyperparameters().local_steps().inner_steps(), 4u);
        QCOMPARE(job.hyperparameters().local_steps().inner_batch(), 64u);
        QCOMPARE(job.hyperparameters().local_steps().staleness(), 1u);
        // Staleness 1 takes the gentler outer step measured for it; staleness 0 DiLoCo's.
        QCOMPARE(job.hyperparameters().local_steps().outer_learning_rate(), 0.35);
        QCOMPARE(job.hyperparameters().local_steps().outer_momentum(), 0.5);
        JobSettings fresh = s;
        fresh.staleness = 0;
        QCOMPARE(makeCreateJob(fresh, m).hyperparameters().local_steps().outer_learning_rate(), 0.7);
        QCOMPARE(makeCreateJob(fresh, m).hyperparameters().local_steps().outer_momentum(), 0.9);
        QCOMPARE(job.hyperparameters().global_batch(), 512u);
        raven::wire::JobInfo info;
        *info.mutable_hyperparameters() = job.hyperparameters();
        QCOMPARE(describeJob(info, {})["training mode"].toString(),
                 describeJob(s, m, "mlp")["training mode"].toString());
        QVERIFY(!makeCreateJob(JobSettings{}, m).hyperparameters().has_local_steps());
        // The update size: on the wire as the encoding, and read back from it under the same name.
        const std::pair<UpdateSize, raven::wire::GradientEncoding> sizes[] = {
            {UpdateSize::Full, raven::wire::GRADIENT_ENCODING_FP32},
            {UpdateSize::Half, raven::wire::GRADIENT_ENCODING_BF16},
            {UpdateSize::Quarter, raven::wire::GRADIENT_ENCODING_INT8_BLOCK}};
        for (const auto& [size, encoding] : sizes) {
            JobSettings sized = s;
            sized.updates = size;
            const raven::wire::CreateJob created = makeCreateJob(sized, m);
            QCOMPARE(created.hyperparameters().gradient_encoding(), encoding);
            raven::wire::JobInfo sizedInfo;
            *sizedInfo.mutable_hyperparameters() = created.hyperparameters();
            QCOMPARE(describeJob(sizedInfo, {})["update size"].toString(), updateSizeNames()[int(size)]);
            QCOMPARE(describeJob(sized, m, "mlp")["update size"].toString(), updateSizeNames()[int(size)]);
        }
        // The weights down: whole by default, int8 deltas when chosen, described alike both ways.
        QCOMPARE(makeCreateJob(s, m).hyperparameters().weights_down_encoding(), raven::wire::GRADIENT_ENCODING_FP32);
        JobSettings deltas = s;
        deltas.weightsDown = WeightsDown::Int8Deltas;
        const raven::wire::CreateJob withDeltas = makeCreateJob(deltas, m);
        QCOMPARE(withDeltas.hyperparameters().weights_down_encoding(), raven::wire::GRADIENT_ENCODING_INT8_BLOCK);
        raven::wire::JobInfo deltasInfo;
        *deltasInfo.mutable_hyperparameters() = withDeltas.hyperparameters();
        const QString int8Down = weightsDownNames()[int(WeightsDown::Int8Deltas)];
        QCOMPARE(describeJob(deltasInfo, {})["weights down"].toString(), int8Down);
        QCOMPARE(describeJob(deltas, m, "mlp")["weights down"].toString(), int8Down);
        JobSettings sgd = s;
        sgd.optimizer = OptimizerChoice::Sgd;
        QVERIFY2(checkSettings(sgd, m, -1).mode.contains("Adam or AdamW"), qPrintable(checkSettings(sgd, m, -1).mode));
        JobSettings clipped = s;
        clipped.checking = ResultChecking::ClipOutliers;
        QVERIFY(checkSettings(clipped, m, -1).mode.contains("result checks"));
        JobSettings partial = s;
        partial.innerBatch = 48;
        QVERIFY(checkSettings(partial, m, -1).mode.contains("multiple of 32"));
        partial.batch = 100;  // unused with local steps: not a problem of the batch field
        QVERIFY(checkSettings(partial, m, -1).batch.isEmpty());
    }

    void configDiffMarksWhatDiffers() {
        raven::data::Manifest m;
        m.name = "fashion";
        m.train.samples = 1024;
        JobSettings a;
        a.budgetMicroCredits = 5'000'000;
        JobSettings b = a;
        b.learningRate = 0.01;
        ConfigDiffModel diff;
        QAbstractItemModelTester tester(&diff, QAbstractItemModelTester::FailureReportingMode::QtTest);
        diff.setJobs({"job 1", "job 2", "job 3"}, {describeJob(a, m, "mlp"), describeJob(b, m, "mlp"), QJsonObject()});
        QCOMPARE(diff.columnCount(), 3);
        QCOMPARE(diff.rowCount(), 17);  // every row of describeJob, weights down the last
        int differing = 0;
        for (int r = 0; r < diff.rowCount(); ++r) {
            const bool differs = diff.index(r, 0).data(ConfigDiffModel::DiffersRole).toBool();
            differing += differs;
            if (diff.headerData(r, Qt::Vertical).toString() == "learning rate") {
                QVERIFY(differs);
                QCOMPARE(diff.index(r, 0).data().toString(), QString("0.001"));
                QCOMPARE(diff.index(r, 1).data().toString(), QString("0.01"));
                QVERIFY(diff.index(r, 1).data(Qt::FontRole).value<QFont>().bold());
            }
        }
        // Every row differs from the job with no recorded settings; without it only the rate does.
        QCOMPARE(differing, 17);
        diff.setJobs({"job 1", "job 2"}, {describeJob(a, m, "mlp"), describeJob(b, m, "mlp")});
        differing = 0;
        for (int r = 0; r < diff.rowCount(); ++r)
            differing += diff.index(r, 0).data(ConfigDiffModel::DiffersRole).toBool();
        QCOMPARE(differing, 1);
        QCOMPARE(diff.index(0, 2).data().toString(), QString());

        // Any job compares, from what the coordinator says of it: a job submitted elsewhere (no
        // record here) with a cosine schedule against this console's job.
        raven::wire::JobInfo elsewhere;
        elsewhere.set_dataset_id("0123456789abcdef");
        elsewhere.set_model_spec_sha256("fedcba9876543210");
        elsewhere.set_budget_micro_credits(5'000'000);
        JobSettings c = a;
        c.schedule = ScheduleChoice::Cosine;
        *elsewhere.mutable_hyperparameters() = makeCreateJob(c, m).hyperparameters();
        raven::wire::JobInfo here = elsewhere;
        *here.mutable_hyperparameters() = makeCreateJob(a, m).hyperparameters();
        diff.setJobs({"job 1", "job 4"}, {describeJob(here, describeJob(a, m, "mlp")), describeJob(elsewhere, {})});
        QStringList differs;
        for (int r = 0; r < diff.rowCount(); ++r)
            if (diff.index(r, 0).data(ConfigDiffModel::DiffersRole).toBool())
                differs << diff.headerData(r, Qt::Vertical).toString();
        QCOMPARE(differs, QStringList({"dataset", "learning-rate schedule", "model", "training samples"}));
    }

    void historySurvivesARestart() {
        QTemporaryDir dir;
        {
            JobHistory h(dir.path(), "7");
            for (int step = 1; step <= 3; ++step) {
                raven::wire::MetricsUpdate u;
                u.set_step(std::uint64_t(step));
                u.set_timestamp_ms(1000 * std::uint64_t(step));
                u.set_train_loss(2.0 / step);
                if (step == 3) u.set_eval_accuracy(0.5);
                QVERIFY(h.add(u));
                QVERIFY(!h.add(u));  // replayed: kept once
            }
            raven::wire::JobEvent e;
            e.set_kind(raven::wire::JOB_EVENT_KIND_WORKER_JOINED);
            e.set_timestamp_ms(1500);
            e.set_message("local-worker-1 joined");
            QVERIFY(h.add(e));
            QVERIFY(!h.add(e));
            QVERIFY(h.addSpend(2000, 10, 100));
            QVERIFY(!h.addSpend(2500, 10, 100));
            QVERIFY(h.writeProblem().isEmpty());
        }
        // A line cut by a crash at the end is skipped.
        QFile f(dir.filePath("job-7.jsonl"));
        QVERIFY(f.open(QIODevice::Append));
        f.write("{\"m\":4,\"t\":40");
        f.close();
        JobHistory again(dir.path(), "7");
        QCOMPARE(int(again.metrics().size()), 3);
        QCOMPARE(again.metrics()[2].trainLoss, 2.0 / 3);
        QCOMPARE(*again.metrics()[2].evalAccuracy, 0.5);
        QVERIFY(!again.metrics()[1].evalAccuracy);
        QCOMPARE(int(again.events().size()), 1);
        QCOMPARE(again.events()[0].message, QString("local-worker-1 joined"));
        QCOMPARE(int(again.spend().size()), 1);
    }

    // A coordinator that goes away is tried again; one that comes back with another certificate is
    // refused, and the status says so with both fingerprints.
    void lostCoordinatorIsRetriedAndAChangedCertificateRefused() {
        QTemporaryDir dir;
        const CoordinatorAtFixedPort at;
        QVERIFY(at.port != 0);
        auto start = [&](const QString& data) { return at.start(dir.filePath(data)); };
        auto coordinator = start("a");
        const QString key = coordinator->addRequester("ana", 10 * raven::ledger::kMicroCreditsPerCredit);
        const QString pinned = coordinator->fingerprint();
        ConnectionService connection;
        QSignalSpy connected(&connection, &ConnectionService::connected);
        QSignalSpy lost(&connection, &ConnectionService::connectionLost);
        connection.connectRemote(coordinator->url(), key, dir.filePath("known_hosts"));
        QVERIFY(connected.wait(20000));
        QCOMPARE(connection.state(), ConnectionState::Connected);
        QVERIFY2(connection.statusText().contains(coordinator->url().toString()), qPrintable(connection.statusText()));

        coordinator.reset();
        QTRY_COMPARE_WITH_TIMEOUT(connection.state(), ConnectionState::Retrying, 20000);
        QCOMPARE(lost.count(), 1);
        QVERIFY2(connection.statusText().startsWith("Not connected; trying again in"),
                 qPrintable(connection.statusText()));
        // (Coming back by itself, as the window shows it: tst_ConsoleFlow's remoteCoordinatorLostAndBackIsSaid.)
        auto impostor = start("b");  // another certificate at the same address
        QVERIFY(impostor->fingerprint() != pinned);
        const QString tail = impostor->fingerprint().right(11);
        QTRY_VERIFY_WITH_TIMEOUT(connection.statusText().contains(tail), 40000);
        QVERIFY2(connection.statusText().contains(pinned.right(11)), qPrintable(connection.statusText()));
        QCOMPARE(connection.state(), ConnectionState::Retrying);
        QCOMPARE(connected.count(), 1);
        connection.disconnectFromCoordinator();
    }

    // An upload broken by the coordinator going away (its process ends mid-upload) resumes with only
    // the shards the coordinator did not store: the count sent again is exactly the shards missing
    // from its data folder, and the local dataset is untouched meanwhile. A shard cut mid-transfer
    // is sent whole again (its chunks arrived in a session that ended with the connection).
    void brokenUploadResumesWithOnlyTheMissingShards() {
        QTemporaryDir dir;
        DatasetLibrary library(dir.filePath("library"));
        QCOMPARE(importAndWait(library, fashionSubset(4096, 512)), 0);
        const QString datasetId = library.datasets()[0].manifest.id;
        QSet<QString> distinct;
        for (const auto* split : {&library.datasets()[0].manifest.train, &library.datasets()[0].manifest.test})
            for (const auto& shard : split->shards) distinct.insert(shard.hash);
        const int total = int(distinct.size());
        QCOMPARE(total, 128 + 16);

        const CoordinatorAtFixedPort at;
        QVERIFY(at.port != 0);
        const QString coordinatorDir = dir.filePath("coordinator");
        auto start = [&] { return at.start(coordinatorDir); };
        auto coordinator = start();
        const QString key = coordinator->addRequester("ana", 10 * raven::ledger::kMicroCreditsPerCredit);
        ConnectionService connection;
        QSignalSpy connected(&connection, &ConnectionService::connected);
        connection.connectRemote(coordinator->url(), key, dir.filePath("known_hosts"));
        QVERIFY(connected.wait(20000));

        // The coordinator goes away once a few shards are through.
        QSignalSpy failed(&library, &DatasetLibrary::uploadFailed);
        QSignalSpy uploaded(&library, &DatasetLibrary::uploaded);
        int acknowledged = 0;
        auto cut = connect(&library, &DatasetLibrary::uploadProgress, this, [&](int sent, int toSend) {
            QCOMPARE(toSend, total);
            acknowledged = sent;
            if (sent == 4) QTimer::singleShot(0, this, [&] { coordinator.reset(); });
        });
        library.upload(0, *connection.client());
        QTRY_VERIFY_WITH_TIMEOUT(!coordinator, 20000);
        disconnect(cut);
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 20000);
        QVERIFY2(!failed.first().at(0).toString().isEmpty(), "the failure says what happened");
        QCOMPARE(uploaded.count(), 0);
        // What the coordinator kept: whole, verified shards only.
        const auto shardsThere = [&] {
            int n = 0;
            for (const QString& name : QDir(coordinatorDir + "/shards").entryList(QDir::Files))
                n += raven::data::ShardStore::isShardName(name) && distinct.contains(name) ? 1 : 0;
            return n;
        };
        const int stored = shardsThere();
        QVERIFY2(stored >= acknowledged && stored >= 4 && stored < total,
                 qPrintable(QString("stored %1 of %2 (%3 acknowledged)").arg(stored).arg(total).arg(acknowledged)));
        // Nothing is lost here: the dataset is still the same on disk.
        QCOMPARE(int(DatasetLibrary(dir.filePath("library")).datasets().size()), 1);

        // Back (the same data folder, so the same certificate): the upload sends only what is missing.
        coordinator = start();
        QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 2, 40000);
        QSignalSpy progress(&library, &DatasetLibrary::uploadProgress);
        library.upload(0, *connection.client());
        QTRY_COMPARE_WITH_TIMEOUT(uploaded.count(), 1, 60000);
        QCOMPARE(uploaded.first().at(0).toString(), datasetId);
        QCOMPARE(uploaded.first().at(1).toInt(), total - stored);  // shards sent again
        QCOMPARE(uploaded.first().at(2).toInt(), total);
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.last().at(1).toInt(), total - stored);
        QCOMPARE(shardsThere(), total);
        // A third upload sends nothing.
        library.upload(0, *connection.client());
        QTRY_COMPARE_WITH_TIMEOUT(uploaded.count(), 2, 20000);
        QCOMPARE(uploaded.last().at(1).toInt(), 0);
        connection.disconnectFromCoordinator();
    }

    // A full disk is told where it happened, and what was on screen stays. The job history writes to
    // /dev/full (every write fails with ENOSPC, anywhere); the import and the export write to a real
    // 200 KiB tmpfs that fills up.
    void fullDiskIsToldWhereItHappened() {
        QTemporaryDir dir;
        QVERIFY(QFile::link("/dev/full", dir.filePath("job-7.jsonl")));
        JobHistory history(dir.path(), "7");
        raven::wire::MetricsUpdate u;
        u.set_step(1);
        u.set_train_loss(2.5);
        QVERIFY(history.add(u));  // kept for the charts even though the disk refused it
        QCOMPARE(int(history.metrics().size()), 1);
        QVERIFY2(history.writeProblem().contains("No space left on device") &&
                     history.writeProblem().contains("is the disk full?"),
                 qPrintable(history.writeProblem()));

        TinyDisk disk(dir.filePath("tiny"), 200);
        if (!disk.mounted())
            QSKIP("mounting a tmpfs needs CAP_SYS_ADMIN (root): the import and export parts did not run");
        // An import larger than the disk: the dialog's message names the shard and the cause, and
        // the half-written dataset is gone.
        DatasetLibrary full(dir.filePath("tiny/library"));
        QString failure;
        QCOMPARE(importAndWait(full, fashionSubset(1024, 100), &failure), -1);
        QVERIFY2(failure.contains("cannot write shard") && failure.contains("No space left on device") &&
                     failure.contains("check that the disk is not full"),
                 qPrintable(failure));
        QVERIFY(full.datasets().empty());
        QCOMPARE(QDir(dir.filePath("tiny/library")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 0);

        // An export onto the full disk: the message names the file; the checkpoint is untouched.
        DatasetLibrary library(dir.filePath("library"));
        QVERIFY(importAndWait(library, fashionSubset(64, 64)) >= 0);
        raven::nn::Model model(
            raven::nn::ModelSpec::load(qEnvironmentVariable("RAVEN_SOURCE_DIR").toStdString() + "/examples/mlp.json"));
        const QString checkpoint = dir.filePath("mlp.safetensors");
        raven::nn::saveCheckpoint(checkpoint.toStdString(), model);
        const qint64 before = QFileInfo(checkpoint).size();
        const QString target = dir.filePath("tiny/exported.safetensors");
        QString exportFailure;
        try {
            exportModel(checkpoint, library.datasets()[0].manifest, target);
        } catch (const raven::Error& e) {
            exportFailure = QString::fromStdString(e.message() + " / " + e.hint());
        }
        QVERIFY2(exportFailure.contains(target) && exportFailure.contains("No space left on device"),
                 qPrintable(exportFailure));
        QVERIFY(!QFileInfo::exists(target));
        QCOMPARE(QFileInfo(checkpoint).size(), before);
        const QString onnxTarget = dir.filePath("tiny/exported.onnx");
        try {
            exportOnnx(checkpoint, library.datasets()[0].manifest, onnxTarget);
            QFAIL("an ONNX file larger than the disk was written");
        } catch (const raven::Error& e) {
            QVERIFY2(e.message().find("No space left on device") != std::string::npos &&
                         e.hint().find("with space for") != std::string::npos,
                     e.message().c_str());
        }
        QVERIFY(!QFileInfo::exists(onnxTarget));
    }

    // The ONNX export of each kind of model, checked by ONNX itself (checker, strict shape inference)
    // and evaluated by tests/console/onnx_reference.py's own NumPy operators on raw inputs; its
    // outputs must be Raven's (normalization applied by Raven, the model in eval mode) within
    // 2e-4 x max(1, |value|): float32 here against float64 there, through up to a dozen layers.
    void onnxExportMatchesRavenOnRawInputs_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<int>("normalization");  // data::NormalizationKind
        QTest::addColumn<QVariantList>("mean");
        QTest::addColumn<QVariantList>("std");
        QTest::addColumn<double>("inputRange");  // raw inputs are uniform integers in [0, range)
        const QString examples = qEnvironmentVariable("RAVEN_SOURCE_DIR") + "/examples/";
        auto file = [](const QString& path) {
            QFile f(path);
            return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
        };
        const int perChannel = int(raven::data::NormalizationKind::PerChannel);
        QTest::newRow("mlp template, pixels")
            << file(examples + "mlp.json") << perChannel << QVariantList{72.94} << QVariantList{90.02} << 256.0;
        QTest::newRow("cnn template, pixels")
            << file(examples + "cnn.json") << perChannel << QVariantList{72.94} << QVariantList{90.02} << 256.0;
        QTest::newRow("transformer template, token ids")
            << file(examples + "transformer.json") << int(raven::data::NormalizationKind::None) << QVariantList{}
            << QVariantList{} << 128.0;
        // Every other kind: grouped and dilated convolution, batch norm with running statistics,
        // average pooling without the padding counted, tanh gelu, layer norm without affine, a
        // non-causal attention without biases, tanh, sigmoid, dropout, softmax, a bias-free linear.
        QTest::newRow("every other kind, colour pixels")
            << QString(R"({
            "name": "kinds", "input": {"shape": [3, 12, 12]},
            "layers": [
              {"name": "c1", "kind": "conv2d", "out_channels": 6, "kernel_size": [3, 2], "padding": [1, 0], "stride": [1, 2], "groups": 3},
              {"name": "bn", "kind": "batch_norm"},
              {"name": "c2", "kind": "conv2d", "out_channels": 4, "kernel_size": 3, "dilation": 2, "padding": 2, "bias": false},
              {"name": "g", "kind": "gelu", "approximate": "tanh"},
              {"name": "ap", "kind": "avg_pool2d", "kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": false},
              {"name": "mp", "kind": "max_pool2d", "kernel_size": 2, "stride": 1, "padding": 1},
              {"name": "r", "kind": "reshape", "shape": [4, -1]},
              {"name": "blk", "kind": "residual", "layers": [
                {"name": "ln", "kind": "layer_norm", "elementwise_affine": false},
                {"name": "att", "kind": "self_attention", "heads": 2, "causal": false, "bias": false}
              ]},
              {"name": "t", "kind": "tanh"},
              {"name": "flat", "kind": "flatten"},
              {"name": "drop", "kind": "dropout", "p": 0.3},
              {"name": "fc", "kind": "linear", "out": 7, "bias": false},
              {"name": "s", "kind": "sigmoid"},
              {"name": "bn1", "kind": "batch_norm"},
              {"name": "sm", "kind": "softmax"}
            ],
            "loss": {"kind": "mse"}, "init": {"scheme": "xavier_uniform", "seed": 3}})")
            << perChannel << QVariantList{120.0, 100.0, 90.0} << QVariantList{60.0, 50.0, 70.0} << 256.0;
    }

    void onnxExportMatchesRavenOnRawInputs() {
        QFETCH(QString, spec);
        QFETCH(int, normalization);
        QFETCH(QVariantList, mean);
        QFETCH(QVariantList, std);
        QFETCH(double, inputRange);
        QProcess probe;
        const QString python = qEnvironmentVariable("RAVEN_PYTHON", QStringLiteral("/usr/bin/python3"));
        probe.start(python, {"-c", "import onnx, numpy"});
        if (!probe.waitForFinished(60000) || probe.exitCode() != 0)
            QSKIP("no python3 with onnx and numpy (install python3-onnx, scripts/setup-debian.sh)");
        QTemporaryDir dir;
        QVERIFY(!spec.isEmpty());
        raven::nn::Model model(raven::nn::ModelSpec::parse(spec.toStdString(), "test spec"));
        // Running statistics that are not the identity, so that the export must carry them.
        auto state = model.stateDict();
        std::mt19937 random(7);
        std::uniform_real_distribution<float> jitter(0.5f, 1.5f);
        for (auto& [name, tensor] : state) {
            if (name.ends_with("running_mean") || name.ends_with("running_var")) {
                std::vector<float> v(std::size_t(tensor.numel()));
                for (float& x : v) x = name.ends_with("running_var") ? jitter(random) : jitter(random) - 1.0f;
                tensor = raven::fromVector(tensor.shape(), v);
            }
        }
        model.loadStateDict(state);
        const QString checkpoint = dir.filePath("model.safetensors");
        raven::nn::saveCheckpoint(checkpoint.toStdString(), model);

        raven::data::Manifest dataset;
        dataset.name = "test";
        dataset.featureShape = model.architecture().inputShape();
        dataset.classes = {"a", "b"};
        dataset.normalization.kind = raven::data::NormalizationKind(normalization);
        for (const QVariant& m : mean) dataset.normalization.mean.push_back(m.toFloat());
        for (const QVariant& s : std) dataset.normalization.std.push_back(s.toFloat());
        const QString onnxPath = dir.filePath("model.onnx");
        exportOnnx(checkpoint, dataset, onnxPath);

        // Raw inputs, as a person would hand them to the ONNX model.
        const int batch = 3;
        const raven::nn::Shape& sample = model.architecture().inputShape();
        std::int64_t perSample = 1;
        for (auto s : sample) perSample *= s;
        std::vector<float> raw(std::size_t(batch * perSample));
        std::uniform_int_distribution<int> value(0, int(inputRange) - 1);
        for (float& x : raw) x = float(value(random));
        writeFile(dir.filePath("inputs.bin"),
                  QByteArray(reinterpret_cast<const char*>(raw.data()), qsizetype(raw.size() * sizeof(float))));
        // Raven: the dataset's normalization as training applies it, then the model in eval mode.
        std::vector<float> normalized = raw;
        for (int b = 0; b < batch; ++b)
            dataset.normalization.apply(std::span<float>(normalized.data() + b * perSample, std::size_t(perSample)),
                                        sample);
        raven::nn::Shape batched{batch};
        batched.insert(batched.end(), sample.begin(), sample.end());
        model.eval();
        const std::vector<float> ours = model.forward(raven::fromVector(batched, normalized)).tensor().toVector();

        QProcess peer;
        peer.start(python, {qEnvironmentVariable("RAVEN_SOURCE_DIR") + "/tests/console/onnx_reference.py", onnxPath,
                            dir.filePath("inputs.bin"), QString::number(batch), dir.filePath("outputs.bin")});
        QVERIFY(peer.waitForFinished(120000));
        const QString said = QString::fromUtf8(peer.readAllStandardOutput() + peer.readAllStandardError());
        QVERIFY2(peer.exitCode() == 0, qPrintable(said));
        qInfo().noquote() << said.trimmed();
        QFile out(dir.filePath("outputs.bin"));
        QVERIFY(out.open(QIODevice::ReadOnly));
        const QByteArray bytes = out.readAll();
        QCOMPARE(bytes.size(), qsizetype(ours.size() * sizeof(float)));
        const auto* theirs = reinterpret_cast<const float*>(bytes.constData());
        double worst = 0;
        for (std::size_t i = 0; i < ours.size(); ++i) {
            const double error =
                std::fabs(double(ours[i]) - double(theirs[i])) / std::max(1.0, std::fabs(double(theirs[i])));
            worst = std::max(worst, error);
            QVERIFY2(error <= 2e-4,
                     qPrintable(QString("output %1: Raven %2, ONNX %3").arg(i).arg(ours[i]).arg(theirs[i])));
        }
        qInfo("%zu outputs, largest relative difference %.2g", ours.size(), worst);
    }

    void confusionMatrixOfARealCheckpoint() {
        QTemporaryDir dir;
        DatasetLibrary library(dir.filePath("library"));
        QString failure;
        const int row = importAndWait(library, fashionSubset(64, 300), &failure);
        QVERIFY2(row >= 0, qPrintable(failure));
        // An untrained MLP: its predictions are whatever its initial weights say, all counted.
        raven::nn::Model model(
            raven::nn::ModelSpec::load(qEnvironmentVariable("RAVEN_SOURCE_DIR").toStdString() + "/examples/mlp.json"));
        const QString checkpoint = dir.filePath("mlp.safetensors");
        raven::nn::saveCheckpoint(checkpoint.toStdString(), model);
        std::atomic_bool cancelled = false;
        const Evaluation e = evaluateCheckpoint(checkpoint, library.datasets()[0].path, cancelled);
        QCOMPARE(e.samples, 300);
        std::int64_t total = 0, diagonal = 0;
        for (int r = 0; r < 10; ++r)
            for (int c = 0; c < 10; ++c) {
                total += e.confusion[std::size_t(r)][std::size_t(c)];
                if (r == c) diagonal += e.confusion[std::size_t(r)][std::size_t(c)];
            }
        QCOMPARE(total, 300);
        QCOMPARE(e.accuracy, double(diagonal) / 300);
        // The export carries the preprocessing and still loads as a Raven model with the same outputs.
        const QString exported = dir.filePath("exported.safetensors");
        exportModel(checkpoint, library.datasets()[0].manifest, exported);
        const raven::Checkpoint packed = raven::Checkpoint::read(exported.toStdString());
        QVERIFY(packed.optimizer.empty());
        QCOMPARE(QString::fromStdString(packed.extraMetadata.at("raven.input_shape")), QString("[1,28,28]"));
        QVERIFY(QString::fromStdString(packed.extraMetadata.at("raven.classes"))
                    .startsWith("[\"T-shirt/top\",\"Trouser\""));
        const auto normalization =
            QJsonDocument::fromJson(QByteArray::fromStdString(packed.extraMetadata.at("raven.normalization"))).object();
        QCOMPARE(normalization["kind"].toString(), QString("per-channel"));
        QCOMPARE(normalization["mean"].toArray().size(), 1);
        QVERIFY(normalization["std"].toArray()[0].toDouble() > 10);  // raw bytes 0..255
        const Evaluation again = evaluateCheckpoint(exported, library.datasets()[0].path, cancelled);
        QCOMPARE(again.confusion, e.confusion);

        ConfusionMatrixModel matrix;
        QAbstractItemModelTester tester(&matrix, QAbstractItemModelTester::FailureReportingMode::QtTest);
        matrix.setEvaluation(e);
        QCOMPARE(matrix.rowCount(), 10);
        QCOMPARE(matrix.headerData(0, Qt::Horizontal).toString(), QString("T-shirt/top"));
        // A cell's samples are test samples of that true class, shown as images.
        for (int r = 0; r < 10; ++r)
            for (int c = 0; c < 10; ++c) {
                const auto samples = matrix.index(r, c).data(ConfusionMatrixModel::SamplesRole).value<QList<qint64>>();
                QCOMPARE(qint64(samples.size()), std::min<qint64>(64, matrix.index(r, c).data().toLongLong()));
                if (!samples.isEmpty()) {
                    QCOMPARE(int(testSampleImages(library.datasets()[0].path, samples).size()), int(samples.size()));
                }
            }
    }
};

QTEST_MAIN(ConsoleModelsTest)
#include "tst_ConsoleModels.moc"
