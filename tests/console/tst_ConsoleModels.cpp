// The console's engines, services and item models without the window: importing (good files, a
// broken one, cancel), previews, the model document and its layer table (edits, problems at the
// layer, the summary's figures), the cost estimate and settings checks, the job history on disk,
// and the confusion matrix of a real evaluation. Every item model runs under
// QAbstractItemModelTester, which checks each signal and answer against the model's contract.
#include <QAbstractItemModelTester>
#include <QFile>
#include <QFont>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <QTcpServer>

#include "ConfigDiffModel.h"
#include "ConfusionMatrixModel.h"
#include "ConnectionService.h"
#include "CostEstimate.h"
#include "DatasetLibrary.h"
#include "DatasetListModel.h"
#include "Evaluation.h"
#include "JobHistory.h"
#include "JobSettings.h"
#include "LayerTableModel.h"
#include "ModelDocument.h"
#include "ModelExport.h"
#include "SamplePreviewModel.h"
#include "checkpoint/Checkpoint.h"
#include "coordinator/Coordinator.h"
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
        QCOMPARE(diff.rowCount(), 12);
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
        QCOMPARE(differing, 12);
        diff.setJobs({"job 1", "job 2"}, {describeJob(a, m, "mlp"), describeJob(b, m, "mlp")});
        differing = 0;
        for (int r = 0; r < diff.rowCount(); ++r)
            differing += diff.index(r, 0).data(ConfigDiffModel::DiffersRole).toBool();
        QCOMPARE(differing, 1);
        QCOMPARE(diff.index(0, 2).data().toString(), QString());
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

    // A coordinator that goes away is tried again until it is back; one that comes back with another
    // certificate is refused, and the status says so with both fingerprints.
    void lostCoordinatorIsRetriedAndAChangedCertificateRefused() {
        QTemporaryDir dir;
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close();
        auto start = [&](const QString& data) {
            raven::coordinator::CoordinatorOptions o;
            o.dataDir = dir.filePath(data);
            o.port = port;
            auto c = std::make_unique<raven::coordinator::Coordinator>(o);
            c->start();
            return c;
        };
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
        QVERIFY2(connection.statusText().contains("Trying again in"), qPrintable(connection.statusText()));
        coordinator = start("a");  // the same data: the same certificate
        QTRY_COMPARE_WITH_TIMEOUT(connected.count(), 2, 40000);
        QCOMPARE(connection.state(), ConnectionState::Connected);

        coordinator.reset();
        auto impostor = start("b");  // another certificate at the same address
        QVERIFY(impostor->fingerprint() != pinned);
        const QString tail = impostor->fingerprint().right(11);
        QTRY_VERIFY_WITH_TIMEOUT(connection.statusText().contains(tail), 40000);
        QVERIFY2(connection.statusText().contains(pinned.right(11)), qPrintable(connection.statusText()));
        QCOMPARE(connection.state(), ConnectionState::Retrying);
        QCOMPARE(connected.count(), 2);
        connection.disconnectFromCoordinator();
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
