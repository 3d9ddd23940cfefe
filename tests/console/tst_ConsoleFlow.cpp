// The requester's whole flow on the real console window (offscreen platform), against a real
// coordinator embedded in the console and a real raven-worker process it starts (RAVEN_WORKER names
// the built one): import a Fashion-MNIST subset through the import dialog, see its preview, start a
// model from a template (and see bad JSON and a budget above the balance refused at their place),
// submit, watch the charts receive points until the job completes, download the checkpoint,
// evaluate it into a confusion matrix and open a cell's samples; then pause, resume and cancel a
// second job, trained with local steps and staleness 1 chosen from the keyboard (and checked at the
// coordinator), through the confirmation. With RAVEN_SCREENSHOT_DIR set, each page is saved as a PNG
// there (docs/screenshots/console-*.png come from this run). Also: the window fits 1280x800 and
// 1024x768 screens on every page, and a remote coordinator that goes away and comes back is said
// in the status bar (counting down to the next try, then "Connected again at ...").
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <cmath>

#include "ComparePage.h"
#include "ConfigDiffModel.h"
#include "ConfusionMatrixModel.h"
#include "ConnectionService.h"
#include "ConsoleWindow.h"
#include "CoordinatorAtFixedPort.h"
#include "DatasetLibrary.h"
#include "ImportDialog.h"
#include "JobContributorsModel.h"
#include "JobHistory.h"
#include "JobSettings.h"
#include "JobWatcher.h"
#include "JobsPage.h"
#include "JobsService.h"
#include "MetricChart.h"
#include "ModelDocument.h"
#include "ResultsPage.h"
#include "WatchPage.h"
#include "WindowFit.h"
#include "coordinator/Coordinator.h"
#include "requester/Credits.h"

using namespace raven::console;

namespace {

template <typename T>
T* child(QWidget* parent, const char* name) {
    T* w = parent->findChild<T*>(QString::fromLatin1(name));
    if (!w) qFatal("no %s named %s", T::staticMetaObject.className(), name);
    return w;
}

void maybeSave(QWidget& w, const QString& name) {
    const QString dir = qEnvironmentVariable("RAVEN_SCREENSHOT_DIR");
    if (dir.isEmpty()) return;
    QTest::qWait(300);  // let charts and views finish their layout
    QVERIFY(w.grab().save(dir + "/" + name + ".png"));
}

// Answers the next message box with `button` once it shows.
void answerNextMessageBox(QMessageBox::StandardButton button) {
    QTimer::singleShot(0, [button] {
        QTRY_VERIFY(qobject_cast<QMessageBox*>(QApplication::activeModalWidget()));
        auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
        QTest::mouseClick(box->button(button), Qt::LeftButton);
    });
}

// A page by its keyboard shortcut (Ctrl+1 ... Ctrl+7), as a person goes there; shortcuts need the
// window to be the active one.
void goTo(ConsoleWindow& window, int digit) {
    QApplication::setActiveWindow(&window);
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QTest::keyClick(&window, Qt::Key(Qt::Key_0 + digit), Qt::ControlModifier);
    QCOMPARE(int(window.currentPage()), digit - 1);
}

const raven::wire::JobInfo* jobOf(ConsoleWindow& window, const QString& id) { return window.jobs().job(id); }

}  // namespace

class ConsoleFlowTest : public QObject {
    Q_OBJECT
private slots:
    // Numbers as the checks below spell them ("2,048"), whatever the machine's locale.
    void initTestCase() { QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates)); }

    // On a laptop's screen (1280x800, 1024x768) the window opens whole, its status bar included, on
    // every page: the size it takes there is not pushed back up by a page's minimum.
    void fitsSmallScreens() {
        QTemporaryDir dir;
        ConsoleOptions options;
        options.dataDirectory = dir.path();
        ConsoleWindow window(options);
        for (const QRect screen : {QRect(0, 0, 1280, 800), QRect(0, 0, 1024, 768)}) {
            const QSize fitted = raven::app::fittedWindowSize(QSize(1300, 840), window.minimumSizeHint(), screen);
            QVERIFY2(fitted.width() + raven::app::kWindowFrameAllowance.width() <= screen.width() &&
                         fitted.height() + raven::app::kWindowFrameAllowance.height() <= screen.height(),
                     qPrintable(QString("%1x%2 on %3x%4")
                                    .arg(fitted.width())
                                    .arg(fitted.height())
                                    .arg(screen.width())
                                    .arg(screen.height())));
            window.resize(fitted);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            auto* status = child<QLabel>(&window, "connectionStatus");
            for (int page = 0; page < ConsoleWindow::PageCount; ++page) {
                window.showPage(ConsoleWindow::Page(page));
                QApplication::processEvents();
                QCOMPARE(window.size(), fitted);
                QVERIFY(window.statusBar()->isVisible());
                const QRect shown(status->mapTo(&window, QPoint(0, 0)), status->size());
                QVERIFY2(window.rect().contains(shown), qPrintable(QString("page %1").arg(page)));
            }
            // The longest form: local steps, the next round at once, with its hint.
            window.showPage(ConsoleWindow::NewJob);
            child<QComboBox>(&window, "jobTrainingMode")->setCurrentIndex(1);
            child<QComboBox>(&window, "jobStaleness")->setCurrentIndex(1);
            QApplication::processEvents();
            QCOMPARE(window.size(), fitted);
            child<QComboBox>(&window, "jobTrainingMode")->setCurrentIndex(0);
            // Who computed the job: every figure's column as wide as its heading, within the table
            // (the contributor's name takes what is left, elided).
            window.showPage(ConsoleWindow::Training);
            QApplication::processEvents();
            auto* contributors = child<QTableView>(&window, "watchContributors");
            const QHeaderView* header = contributors->horizontalHeader();
            for (int c = JobContributorsModel::Units; c < JobContributorsModel::ColumnCount; ++c)
                QVERIFY2(header->sectionSize(c) >= header->sectionSizeHint(c),
                         qPrintable(QString("column %1 at %2 px: %3 < %4")
                                        .arg(c)
                                        .arg(screen.width())
                                        .arg(header->sectionSize(c))
                                        .arg(header->sectionSizeHint(c))));
            QVERIFY2(header->sectionSize(JobContributorsModel::Contributor) >= 100,
                     qPrintable(QString::number(header->sectionSize(JobContributorsModel::Contributor))));
            QVERIFY2(header->length() <= contributors->viewport()->width(),
                     qPrintable(QString("%1 > %2").arg(header->length()).arg(contributors->viewport()->width())));
        }
    }

    // A remote coordinator, connected through File > Connect (Ctrl+K) from the keyboard, goes away:
    // the status bar leads with what happens next and counts the seconds down; once it is back the
    // console reconnects by itself and says so, with the time.
    void remoteCoordinatorLostAndBackIsSaid() {
        QTemporaryDir dir;
        const CoordinatorAtFixedPort at;
        QVERIFY(at.port != 0);
        const quint16 port = at.port;
        auto start = [&] { return at.start(dir.filePath("coordinator")); };
        auto coordinator = start();
        const QString key = coordinator->addRequester("ana", 10 * raven::ledger::kMicroCreditsPerCredit);
        ConsoleOptions options;
        options.dataDirectory = dir.filePath("console");
        ConsoleWindow window(options);
        window.resize(raven::app::fittedWindowSize(QSize(1300, 840), window.minimumSizeHint(), QRect(0, 0, 1280, 800)));
        window.show();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        auto* status = child<QLabel>(&window, "connectionStatus");
        auto fillIn = [&](QDialog* dialog) {
            QApplication::setActiveWindow(dialog);
            QVERIFY(QTest::qWaitForWindowActive(dialog));
            QTest::keyClick(dialog, Qt::Key_R, Qt::AltModifier);  // "A &remote coordinator"
            QTRY_VERIFY(child<QRadioButton>(dialog, "connectRemote")->isChecked());
            QTest::keyClick(dialog, Qt::Key_A, Qt::AltModifier);  // "&Address:"
            QTest::keyClicks(QApplication::focusWidget(), QStringLiteral("127.0.0.1:%1").arg(port));
            QTest::keyClick(dialog, Qt::Key_K, Qt::AltModifier);  // "API &key:"
            QTest::keyClicks(QApplication::focusWidget(), key);
            QCOMPARE(child<QLineEdit>(dialog, "connectAddress")->text(), QStringLiteral("127.0.0.1:%1").arg(port));
            QCOMPARE(child<QLineEdit>(dialog, "connectApiKey")->text(), key);
            QTest::keyClick(QApplication::focusWidget(), Qt::Key_Return);
        };
        QTimer::singleShot(0, [&] {
            QTRY_VERIFY(qobject_cast<QDialog*>(QApplication::activeModalWidget()));
            auto* dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget());
            fillIn(dialog);
            if (dialog->isVisible()) dialog->reject();  // a failed step: not left waiting for a person
        });
        QTest::keyClick(&window, Qt::Key_K, Qt::ControlModifier);
        QTRY_COMPARE_WITH_TIMEOUT(window.connection().state(), ConnectionState::Connected, 20000);
        QVERIFY2(status->text().contains("Connected to wss://127.0.0.1:"), qPrintable(status->text()));

        coordinator.reset();
        // The second try waits 2 s: seen counting down to 1 s.
        QTRY_VERIFY_WITH_TIMEOUT(status->text().contains("Not connected; trying again in 2 s."), 20000);
        QVERIFY2(status->text().contains("Cannot reach the coordinator at wss://127.0.0.1:"),
                 qPrintable(status->text()));
        QVERIFY(status->toolTip().contains("Not connected"));
        QTRY_VERIFY_WITH_TIMEOUT(status->text().contains("Not connected; trying again in 1 s."), 1500);
        coordinator = start();  // the same data: the same certificate
        QTRY_VERIFY_WITH_TIMEOUT(status->text().contains("Connected again at"), 30000);
        QCOMPARE(window.connection().state(), ConnectionState::Connected);
        QVERIFY2(status->text().contains(QStringLiteral("wss://127.0.0.1:%1").arg(port)), qPrintable(status->text()));
        maybeSave(window, "console-reconnected");
        window.connection().disconnectFromCoordinator();
    }

    void importBuildSubmitWatchDownloadEvaluate() {
        QTemporaryDir dir;
        ConsoleOptions options;
        options.dataDirectory = dir.path();
        options.localWorkers = 1;
        options.connectAtStart = true;
        ConsoleWindow window(options);
        // The size it opens at on a 1280x800 screen: the screenshots show what a laptop shows.
        window.resize(raven::app::fittedWindowSize(QSize(1300, 840), window.minimumSizeHint(), QRect(0, 0, 1280, 800)));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto* jobList = child<QTableView>(&window, "jobList");
        QAbstractItemModelTester jobsTester(jobList->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto* status = child<QLabel>(&window, "connectionStatus");
        QTRY_VERIFY_WITH_TIMEOUT(window.connection().state() == ConnectionState::Connected, 30000);
        QVERIFY2(status->text().contains("1 local worker"), qPrintable(status->text()));
        // No job yet: the Jobs and Results pages say what will appear there and how to get it.
        goTo(window, 4);
        auto* jobsHint = child<QLabel>(&window, "jobsEmptyHint");
        QVERIFY(jobsHint->isVisible());
        QVERIFY(!jobList->isVisible());
        QVERIFY2(jobsHint->text().contains("New job page (Ctrl+3)"), qPrintable(jobsHint->text()));
        goTo(window, 6);
        auto* resultsHint = child<QLabel>(&window, "resultsHint");
        QVERIFY(resultsHint->isVisible());
        QVERIFY(!child<QTableView>(&window, "confusionMatrix")->isVisible());
        QVERIFY2(resultsHint->text().contains("Open a job on the Jobs page (Ctrl+4"), qPrintable(resultsHint->text()));

        // --- Datasets: import a Fashion-MNIST subset through the dialog, in the background.
        goTo(window, 1);
        QCOMPARE(window.currentPage(), ConsoleWindow::Datasets);
        QTest::mouseClick(child<QPushButton>(&window, "importDataset"), Qt::LeftButton);
        auto* dialog = window.findChild<ImportDialog*>("importDialog");
        QVERIFY(dialog && dialog->isVisible());
        // First a folder without IDX files: the problem is shown in the dialog, which stays open.
        // The Files field by its label's mnemonic (Fil&es), as a person at the keyboard reaches it.
        QApplication::setActiveWindow(dialog);
        QVERIFY(QTest::qWaitForWindowActive(dialog));
        QTest::keyClick(dialog, Qt::Key_E, Qt::AltModifier);
        QCOMPARE(QApplication::focusWidget(), child<QLineEdit>(dialog, "importSource"));
        QTest::keyClicks(QApplication::focusWidget(), dir.path());
        QTest::mouseClick(child<QPushButton>(dialog, "importStart"), Qt::LeftButton);
        auto* problem = child<QLabel>(dialog, "importProblem");
        QTRY_VERIFY_WITH_TIMEOUT(problem->isVisible(), 20000);
        QVERIFY2(problem->text().contains("train-images"), qPrintable(problem->text()));
        child<QLineEdit>(dialog, "importSource")->clear();
        QTest::keyClicks(child<QLineEdit>(dialog, "importSource"), "/usr/share/datasets/fashion-mnist");
        child<QSpinBox>(dialog, "importMaxTrain")->setValue(1024);
        child<QSpinBox>(dialog, "importMaxTest")->setValue(500);
        QTest::mouseClick(child<QPushButton>(dialog, "importStart"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(window.datasets().datasets().size() == 1, 60000);
        QTRY_VERIFY(!window.findChild<ImportDialog*>("importDialog"));  // closed and gone
        auto* grid = child<QListView>(&window, "sampleGrid");
        QTRY_VERIFY_WITH_TIMEOUT(grid->model()->rowCount() == 48, 20000);
        QVERIFY(!grid->model()->index(0, 0).data().toString().isEmpty());  // a class name
        auto* facts = child<QLabel>(&window, "datasetFacts");
        QVERIFY2(facts->text().contains("1,024 training and 500 test samples in 48 shards"), qPrintable(facts->text()));
        QTest::mouseClick(child<QPushButton>(&window, "uploadDataset"), Qt::LeftButton);
        auto* uploadStatus = child<QLabel>(&window, "uploadStatus");
        QTRY_VERIFY_WITH_TIMEOUT(uploadStatus->text().startsWith("On the coordinator"), 30000);
        QVERIFY2(uploadStatus->text().contains("48 shards sent now, 0 were there already"),
                 qPrintable(uploadStatus->text()));
        maybeSave(window, "console-datasets");

        // --- Models: a template, checked against the dataset; broken JSON is refused at the editor.
        goTo(window, 2);
        auto* templates = child<QComboBox>(&window, "modelTemplate");
        auto* modelProblem = child<QLabel>(&window, "modelProblem");
        templates->setCurrentIndex(int(ModelTemplate::Cnn));
        QTest::mouseClick(child<QPushButton>(&window, "useTemplate"), Qt::LeftButton);
        QVERIFY2(modelProblem->text().contains("fits the dataset"), qPrintable(modelProblem->text()));
        QCOMPARE(child<QTableView>(&window, "layerTable")->model()->rowCount(), 10);
        maybeSave(window, "console-models");
        auto* json = child<QPlainTextEdit>(&window, "modelJson");
        json->selectAll();
        QTest::keyClicks(json, "{ \"name\": ");
        QVERIFY2(modelProblem->text().contains("JSON line 1"), qPrintable(modelProblem->text()));
        templates->setCurrentIndex(int(ModelTemplate::Mlp));
        QTest::mouseClick(child<QPushButton>(&window, "useTemplate"), Qt::LeftButton);
        QVERIFY2(modelProblem->text().contains("fits the dataset"), qPrintable(modelProblem->text()));
        QVERIFY(json->toPlainText().contains("fashion-mnist-mlp"));

        // --- New job: a budget above the balance is refused beside the budget; then submit.
        goTo(window, 3);
        auto* balance = child<QLabel>(&window, "jobBalance");
        QTRY_VERIFY_WITH_TIMEOUT(balance->text().contains("your balance: 1,000,000 credits"), 10000);
        child<QSpinBox>(&window, "jobEpochs")->setValue(2);
        auto* budget = child<QDoubleSpinBox>(&window, "jobBudget");
        auto* submit = child<QPushButton>(&window, "submitJob");
        budget->setValue(2'000'000);
        QVERIFY2(child<QLabel>(&window, "budgetProblem")->isVisible(),
                 qPrintable(child<QLabel>(&window, "budgetProblem")->text() + " / " +
                            child<QLabel>(&window, "jobEstimate")->text()));
        QVERIFY(child<QLabel>(&window, "budgetProblem")->text().contains("more than your balance"));
        QVERIFY(!submit->isEnabled());
        child<QSpinBox>(&window, "jobBatch")->setValue(100);
        QVERIFY(child<QLabel>(&window, "batchProblem")->text().contains("multiple of 32"));
        child<QSpinBox>(&window, "jobBatch")->setValue(128);
        // A budget near the cost, so that the credits chart shows the spend against it.
        budget->setValue(0.004);
        QVERIFY(!child<QLabel>(&window, "budgetProblem")->isVisible());
        // A step decay: the rate halves every 4 steps (checked below against what the coordinator used).
        auto* schedule = child<QComboBox>(&window, "jobSchedule");
        schedule->setCurrentIndex(int(ScheduleChoice::StepDecay));
        QVERIFY(child<QSpinBox>(&window, "jobDecayEvery")->isVisible());
        QVERIFY(!child<QSpinBox>(&window, "jobWarmupSteps")->isVisible());
        child<QSpinBox>(&window, "jobDecayEvery")->setValue(4);
        child<QDoubleSpinBox>(&window, "jobDecayFactor")->setValue(0.5);
        QVERIFY(!child<QLabel>(&window, "scheduleProblem")->isVisible());
        // Results far from the others are clipped and a share is recomputed (chosen from the keyboard):
        // the job runs with centred clipping and spot checks at the coordinator, the honest worker's
        // fast results agree with the coordinator's replays, and the job still learns.
        auto* checking = child<QComboBox>(&window, "jobChecking");
        checking->setFocus();
        QTest::keyClick(checking, Qt::Key_Down);
        QTest::keyClick(checking, Qt::Key_Down);
        QCOMPARE(checking->currentIndex(), int(ResultChecking::SpotCheck));
        // The price is the coordinator's own, from the wire, with the balance beside the estimate.
        QTRY_VERIFY(window.jobs().pricePerTeraflop() == raven::ledger::kMicroCreditsPerCredit);
        const QString estimate = child<QLabel>(&window, "jobEstimate")->text();
        QVERIFY2(estimate.contains("for 16 steps over 2,048 samples"), qPrintable(estimate));
        QVERIFY2(estimate.contains("price of 1 credit per 10<sup>12</sup> FLOPs"), qPrintable(estimate));
        QVERIFY2(estimate.contains("your balance: 1,000,000 credits"), qPrintable(estimate));
        QCOMPARE(budget->text(), QString("0.004 credits"));  // not 0.004000
        QTRY_VERIFY(submit->isEnabled());
        maybeSave(window, "console-submit");
        QTest::mouseClick(submit, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(window.currentPage() == ConsoleWindow::Training, 30000);
        const QString jobId = window.watcher().jobId();
        QVERIFY(!jobId.isEmpty());

        // --- Training: the charts receive points until the job completes.
        auto* watch = window.watchPage();
        QTRY_VERIFY_WITH_TIMEOUT(
            jobOf(window, jobId) && jobOf(window, jobId)->state() == raven::wire::JOB_STATE_COMPLETED, 90000);
        QTRY_VERIFY_WITH_TIMEOUT(watch->lossChart()->pointCount(0) == 16, 10000);
        QCOMPARE(watch->lossChart()->pointCount(1), 16);         // smoothed
        QTRY_COMPARE(watch->accuracyChart()->pointCount(0), 2);  // after each epoch
        QVERIFY(window.watcher().history()->metrics().back().evalAccuracy.value() > 0.3);
        QCOMPARE(jobOf(window, jobId)->hyperparameters().aggregation(), raven::wire::AGGREGATION_CENTRED_CLIP);
        QVERIFY(jobOf(window, jobId)->hyperparameters().spot_check());
        QVERIFY(!window.watcher().history()->events().empty());
        // Events from before the page subscribed come too (the coordinator keeps them): the worker
        // joining, at the step it happened.
        const auto& events = window.watcher().history()->events();
        QVERIFY(std::any_of(events.begin(), events.end(), [](const EventPoint& e) {
            return e.kind == raven::wire::JOB_EVENT_KIND_WORKER_JOINED && e.step < 16;
        }));
        QVERIFY(child<QListWidget>(&window, "watchEvents")->count() > 0);
        // Every step was taken at the schedule's rate: 0.001 halved every 4 steps (the metrics of
        // step k come from the optimizer step that made version k, taken at the rate of k - 1).
        for (const MetricPoint& p : window.watcher().history()->metrics()) {
            QVERIFY2(p.learningRate, qPrintable(QString("step %1 has no learning rate").arg(p.step)));
            QCOMPARE(*p.learningRate, 0.001 * std::pow(0.5, double((p.step - 1) / 4)));
        }
        // Who computed it: the one local worker, all of it, paid what the job spent.
        auto* contributors = child<QTableView>(&window, "watchContributors");
        auto* contributorsModel = qobject_cast<QSortFilterProxyModel*>(contributors->model())->sourceModel();
        QAbstractItemModelTester contributorsTester(contributorsModel,
                                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE_WITH_TIMEOUT(contributorsModel->rowCount(), 1, 10000);
        const auto cell = [&](int column) { return contributorsModel->index(0, column).data().toString(); };
        QTRY_COMPARE(cell(JobContributorsModel::Samples), QString("2,048"));
        QVERIFY2(cell(JobContributorsModel::Contributor).contains("local"), qPrintable(cell(0)));
        QVERIFY(cell(JobContributorsModel::Units).toInt() >= 16);
        QCOMPARE(cell(JobContributorsModel::Share), QString("100.0 %"));
        QCOMPARE(contributorsModel->index(0, JobContributorsModel::Credits)
                     .data(JobContributorsModel::SortRole)
                     .toLongLong(),
                 qlonglong(jobOf(window, jobId)->spent_micro_credits()));
        QVERIFY(contributorsModel->index(0, JobContributorsModel::SamplesPerSecond)
                    .data(JobContributorsModel::SortRole)
                    .toDouble() > 0);
        QVERIFY2(child<QLabel>(&window, "watchContributorsSummary")->text().startsWith("1 contributor computed"),
                 qPrintable(child<QLabel>(&window, "watchContributorsSummary")->text()));
        QTRY_VERIFY(child<QLabel>(&window, "watchHeader")->text().contains("completed"));
        // By epoch: 8 steps of 128 samples make an epoch of the 1,024-sample subset.
        auto* xAxis = child<QComboBox>(&window, "watchXAxis");
        xAxis->setCurrentIndex(2);
        QCOMPARE(watch->lossChart()->pointCount(0), 16);
        QCOMPARE(watch->accuracyChart()->points(0).back().x(), 2.0);
        QCOMPARE(watch->accuracyChart()->points(0).front().x(), 1.0);
        xAxis->setCurrentIndex(1);  // samples seen
        QCOMPARE(watch->lossChart()->points(0).back().x(), 16.0 * 128);
        xAxis->setCurrentIndex(0);
        child<QCheckBox>(&window, "watchLogScale")->setChecked(true);
        QCOMPARE(watch->lossChart()->pointCount(0), 16);
        maybeSave(window, "console-training");
        child<QCheckBox>(&window, "watchLogScale")->setChecked(false);
        goTo(window, 4);
        QVERIFY(jobList->model()->rowCount() == 1);
        QVERIFY(jobList->isVisible());
        QVERIFY(!jobsHint->isVisible());
        QCOMPARE(jobList->model()->index(0, 2).data().toString(), QString("completed"));
        maybeSave(window, "console-jobs");

        // --- Results: download the checkpoint, evaluate it, open a cell of the confusion matrix.
        goTo(window, 6);
        QVERIFY2(resultsHint->text().startsWith("Download the latest checkpoint, then evaluate it"),
                 qPrintable(resultsHint->text()));
        QTest::mouseClick(child<QPushButton>(&window, "downloadCheckpoint"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!window.resultsPage()->checkpointPath().isEmpty(), 30000);
        QVERIFY(QFileInfo(window.resultsPage()->checkpointPath()).size() > 235146 * 4);
        auto* evaluate = child<QPushButton>(&window, "evaluateCheckpoint");
        QVERIFY(evaluate->isEnabled());
        QTest::mouseClick(evaluate, Qt::LeftButton);
        auto* matrix = child<QTableView>(&window, "confusionMatrix");
        QAbstractItemModelTester matrixTester(matrix->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_VERIFY_WITH_TIMEOUT(matrix->model()->rowCount() == 10, 60000);
        QVERIFY(matrix->isVisible());
        QVERIFY(!resultsHint->isVisible());
        QVERIFY2(child<QLabel>(&window, "resultsSummary")->text().contains("on 500 samples"),
                 qPrintable(child<QLabel>(&window, "resultsSummary")->text()));
        // The biggest mistake: open it.
        QModelIndex worst;
        for (int r = 0; r < 10; ++r)
            for (int c = 0; c < 10; ++c)
                if (r != c && (!worst.isValid() || matrix->model()->index(r, c).data().toInt() > worst.data().toInt()))
                    worst = matrix->model()->index(r, c);
        QVERIFY(worst.data().toInt() > 0);
        matrix->setFocus();
        matrix->setCurrentIndex(worst);
        QTest::keyClick(matrix, Qt::Key_Return);
        QTRY_COMPARE(child<QListWidget>(&window, "cellSamples")->count(), std::min(64, worst.data().toInt()));
        const QString exported = dir.filePath("fashion-mlp.safetensors");
        QVERIFY(child<QPushButton>(&window, "exportModel")->isEnabled());
        window.resultsPage()->exportTo(exported);  // what Export does once the file dialog has its answer
        QVERIFY2(child<QLabel>(&window, "resultsStatus")->text().startsWith("Exported as"),
                 qPrintable(child<QLabel>(&window, "resultsStatus")->text()));
        QVERIFY(QFileInfo(exported).size() > 235146 * 4);
        QVERIFY(QFileInfo(exported).size() < QFileInfo(window.resultsPage()->checkpointPath()).size());
        // The same model as ONNX (checked against Raven's outputs in console_models).
        const QString onnx = dir.filePath("fashion-mlp.onnx");
        window.resultsPage()->exportTo(onnx);
        QVERIFY2(child<QLabel>(&window, "resultsStatus")->text().contains("ONNX opset 17"),
                 qPrintable(child<QLabel>(&window, "resultsStatus")->text()));
        QVERIFY(QFileInfo(onnx).size() > 235146 * 4);
        maybeSave(window, "console-results");

        // --- A second, longer job: pause, resume, then cancel through the confirmation.
        goTo(window, 3);
        child<QSpinBox>(&window, "jobEpochs")->setValue(200);
        budget->setValue(100);
        // It trains with local steps, chosen from the keyboard: their settings appear only now.
        auto* mode = child<QComboBox>(&window, "jobTrainingMode");
        auto* lanes = child<QSpinBox>(&window, "jobLanes");
        auto* modeHint = child<QLabel>(&window, "jobTrainingModeHint");
        QVERIFY(!lanes->isVisible());
        QVERIFY2(modeHint->text().contains("same model as training on one machine"), qPrintable(modeHint->text()));
        mode->setFocus();
        QTest::keyClick(mode, Qt::Key_Down);
        QCOMPARE(mode->currentIndex(), int(TrainingMode::LocalSteps));
        QVERIFY(lanes->isVisible());
        QVERIFY(!child<QSpinBox>(&window, "jobBatch")->isEnabled());  // a step is now a round
        // The first job's result checks (clipping, spot checks) cannot go with local steps: said beside the mode.
        auto* modeProblem = child<QLabel>(&window, "trainingModeProblem");
        QVERIFY(modeProblem->isVisible());
        QVERIFY2(modeProblem->text().contains("cannot be combined with these result checks"),
                 qPrintable(modeProblem->text()));
        QVERIFY(!submit->isEnabled());
        checking->setFocus();
        QTest::keyClick(checking, Qt::Key_Home);
        QCOMPARE(checking->currentIndex(), int(ResultChecking::Sanity));
        QVERIFY(!modeProblem->isVisible());
        // 2 lanes x 2 inner steps of 32 samples, typed; an inner batch of 100 is not whole shards.
        const auto typeInto = [](QSpinBox* spin, const char* text) {
            spin->setFocus();
            spin->selectAll();
            QTest::keyClicks(spin, text);
            QTest::keyClick(spin, Qt::Key_Tab);
        };
        typeInto(lanes, "2");
        typeInto(child<QSpinBox>(&window, "jobInnerSteps"), "2");
        typeInto(child<QSpinBox>(&window, "jobInnerBatch"), "100");
        QVERIFY2(modeProblem->text().contains("multiple of 32"), qPrintable(modeProblem->text()));
        QVERIFY(!submit->isEnabled());
        typeInto(child<QSpinBox>(&window, "jobInnerBatch"), "32");
        QVERIFY(!modeProblem->isVisible());
        auto* staleness = child<QComboBox>(&window, "jobStaleness");
        staleness->setFocus();
        QTest::keyClick(staleness, Qt::Key_Down);
        QCOMPARE(staleness->currentIndex(), 1);
        QVERIFY2(modeHint->text().contains("2 steps on its own") && modeHint->text().contains("next round at once"),
                 qPrintable(modeHint->text()));
        // Its updates go up as 8-bit blocks, the field reached by its mnemonic (Alt+Z).
        auto* updates = child<QComboBox>(&window, "jobUpdateSize");
        QTest::keyClick(&window, Qt::Key_Z, Qt::AltModifier);
        QTRY_VERIFY(updates->hasFocus());
        QTest::keyClick(updates, Qt::Key_Down);
        QTest::keyClick(updates, Qt::Key_Down);
        QCOMPARE(updates->currentIndex(), int(UpdateSize::Quarter));
        // And its weights come down as 8-bit deltas (Alt+F): the worker rebuilds each version.
        auto* weightsDown = child<QComboBox>(&window, "jobWeightsDown");
        QTest::keyClick(&window, Qt::Key_F, Qt::AltModifier);
        QTRY_VERIFY(weightsDown->hasFocus());
        QTest::keyClick(weightsDown, Qt::Key_Down);
        QCOMPARE(weightsDown->currentIndex(), int(WeightsDown::Int8Deltas));
        QTRY_VERIFY(submit->isEnabled());
        maybeSave(window, "console-submit-local-steps");
        QTest::mouseClick(submit, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(window.watcher().jobId() != jobId, 30000);
        const QString second = window.watcher().jobId();
        goTo(window, 4);
        QTRY_VERIFY(jobOf(window, second) && jobOf(window, second)->state() == raven::wire::JOB_STATE_RUNNING);
        // The job the coordinator runs carries the mode: 2 lanes x 2 inner steps x 32 samples a round.
        const raven::wire::Hyperparameters& local = jobOf(window, second)->hyperparameters();
        QVERIFY(local.has_local_steps());
        QCOMPARE(local.local_steps().lanes(), 2u);
        QCOMPARE(local.local_steps().inner_steps(), 2u);
        QCOMPARE(local.local_steps().inner_batch(), 32u);
        QCOMPARE(local.local_steps().staleness(), 1u);
        QCOMPARE(local.global_batch(), 128u);
        QCOMPARE(local.aggregation(), raven::wire::AGGREGATION_MEAN);
        QCOMPARE(local.gradient_encoding(), raven::wire::GRADIENT_ENCODING_INT8_BLOCK);
        QCOMPARE(local.weights_down_encoding(), raven::wire::GRADIENT_ENCODING_INT8_BLOCK);
        window.jobsPage()->selectJob(second);
        QTRY_VERIFY(child<QPushButton>(&window, "pauseJob")->isEnabled());
        QTest::mouseClick(child<QPushButton>(&window, "pauseJob"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(jobOf(window, second)->state() == raven::wire::JOB_STATE_PAUSED, 20000);
        QTRY_VERIFY(child<QPushButton>(&window, "resumeJob")->isEnabled());
        QTest::mouseClick(child<QPushButton>(&window, "resumeJob"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(jobOf(window, second)->state() != raven::wire::JOB_STATE_PAUSED, 20000);
        // "No" keeps the job; "Yes" cancels it.
        answerNextMessageBox(QMessageBox::No);
        QTest::mouseClick(child<QPushButton>(&window, "cancelJob"), Qt::LeftButton);
        QTest::qWait(2500);
        QVERIFY(jobOf(window, second)->state() != raven::wire::JOB_STATE_CANCELLED);
        answerNextMessageBox(QMessageBox::Yes);
        QTest::mouseClick(child<QPushButton>(&window, "cancelJob"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(jobOf(window, second)->state() == raven::wire::JOB_STATE_CANCELLED, 20000);

        // --- Compare: both runs overlaid, and their settings side by side with the difference marked.
        // Any job compares: the second's history is removed from this machine first, so its curve
        // comes from the coordinator.
        window.watcher().watch(jobId);
        QVERIFY(QFile::remove(window.watcher().historyDirectory() + "/job-" + second + ".jsonl"));
        goTo(window, 7);
        window.comparePage()->compare({jobId, second});
        QCOMPARE(window.comparePage()->lossChart()->pointCount(0), 16);
        QTRY_VERIFY_WITH_TIMEOUT(window.comparePage()->lossChart()->pointCount(1) > 0, 20000);
        QVERIFY(QFileInfo::exists(window.watcher().historyDirectory() + "/job-" + second + ".jsonl"));
        auto* diff = window.comparePage()->diff();
        QAbstractItemModelTester diffTester(diff, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QStringList differing;
        for (int r = 0; r < diff->rowCount(); ++r)
            if (diff->index(r, 0).data(ConfigDiffModel::DiffersRole).toBool())
                differing << diff->headerData(r, Qt::Vertical).toString();
        QCOMPARE(differing, QStringList({"budget (credits)", "epochs", "result checks", "training mode", "update size",
                                         "weights down"}));
        maybeSave(window, "console-compare");
    }
};

QTEST_MAIN(ConsoleFlowTest)
#include "tst_ConsoleFlow.moc"
