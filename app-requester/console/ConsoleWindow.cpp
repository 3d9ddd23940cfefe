#include "ConsoleWindow.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QStatusBar>

#include <QVBoxLayout>

#include "ComparePage.h"
#include "ConnectionDialog.h"
#include "ConnectionService.h"
#include "DatasetLibrary.h"
#include "DatasetsPage.h"
#include "DeviceTable.h"
#include "JobWatcher.h"
#include "JobsPage.h"
#include "JobsService.h"
#include "ModelDocument.h"
#include "ModelsPage.h"
#include "ResultsPage.h"
#include "ResultsService.h"
#include "SubmitPage.h"
#include "WatchPage.h"
#include "WindowFit.h"
#include "requester/RequesterClient.h"

namespace raven::console {

ConsoleWindow::ConsoleWindow(ConsoleOptions options, QWidget* parent)
    : QMainWindow(parent), options_(std::move(options)) {
    setWindowTitle(tr("Raven Console"));
    setObjectName("consoleWindow");
    if (options_.dataDirectory.isEmpty())
        options_.dataDirectory = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    const QDir folder(options_.dataDirectory);
    folder.mkpath(".");

    connection_ = new ConnectionService(this);
    library_ = new DatasetLibrary(folder.filePath("datasets"), this);
    model_ = new ModelDocument(this);
    jobs_ = new JobsService(*connection_, folder.filePath("job-datasets.json"), this);
    watcher_ = new JobWatcher(*connection_, *jobs_, folder.filePath("history/this-machine"), this);
    results_ = new ResultsService(*connection_, folder.filePath("checkpoints"), this);

    datasetsPage_ = new DatasetsPage(*library_, *connection_);
    modelsPage_ = new ModelsPage(*model_, *library_);
    submitPage_ = new SubmitPage(*library_, *model_, *jobs_, *connection_);
    jobsPage_ = new JobsPage(*jobs_);
    watchPage_ = new WatchPage(*watcher_, *jobs_);
    resultsPage_ = new ResultsPage(*results_, *library_);
    comparePage_ = new ComparePage(*jobs_, *watcher_, *connection_);
    auto* devicesPage = new QWidget;
    auto* devicesLayout = new QVBoxLayout(devicesPage);
    auto* devicesHeading =
        new QLabel(tr("<h2>Compute on this machine</h2><p>Evaluations of checkpoints run on the "
                      "CPU; local workers and local training can use one of these devices.</p>"));
    devicesHeading->setWordWrap(true);
    devicesLayout->addWidget(devicesHeading);
    devices_ = new app::DeviceTable(devicesPage);
    devicesLayout->addWidget(devices_, 1);

    sidebar_ = new QListWidget;
    sidebar_->setObjectName("sidebar");
    sidebar_->setFixedWidth(170);
    pages_ = new QStackedWidget;
    const QString names[] = {tr("Datasets"), tr("Models"),  tr("New job"), tr("Jobs"),
                             tr("Training"), tr("Results"), tr("Compare"), tr("This machine")};
    QWidget* widgets[] = {datasetsPage_, modelsPage_,  submitPage_,  jobsPage_,
                          watchPage_,    resultsPage_, comparePage_, devicesPage};
    for (int i = 0; i < PageCount; ++i) {
        auto* item = new QListWidgetItem(names[i], sidebar_);
        if (i == Training || i == Results) item->setText("    " + names[i]);  // a job's own pages, under Jobs
        pages_->addWidget(widgets[i]);
    }
    auto* central = new QWidget;
    auto* layout = new QHBoxLayout(central);
    layout->addWidget(sidebar_);
    layout->addWidget(pages_, 1);
    setCentralWidget(central);
    connect(sidebar_, &QListWidget::currentRowChanged, pages_, &QStackedWidget::setCurrentIndex);

    connectionLabel_ = new QLabel;
    connectionLabel_->setObjectName("connectionStatus");
    connectionLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    workers_ = new QSpinBox;
    workers_->setObjectName("localWorkers");
    workers_->setRange(0, 64);
    workers_->setPrefix(tr("local workers: "));
    workers_->setToolTip(
        tr("raven-worker processes on this machine that compute for the coordinator inside the "
           "console"));
    statusBar()->addWidget(connectionLabel_, 1);
    statusBar()->addPermanentWidget(workers_);
    connect(connection_, &ConnectionService::stateChanged, this, &ConsoleWindow::connectionChanged);
    connect(connection_, &ConnectionService::statusTextChanged, this, &ConsoleWindow::showConnectionStatus);
    connect(workers_, &QSpinBox::valueChanged, connection_, &ConnectionService::setWorkerCount);

    connect(submitPage_, &SubmitPage::submitted, this, &ConsoleWindow::openJob);
    connect(jobsPage_, &JobsPage::openJob, this, &ConsoleWindow::openJob);
    buildMenus();
    showPage(Datasets);
    connectionChanged();
    devices_->refresh();
    // Roomy where the screen allows; on a laptop's 1280x800 or 1024x768 the whole window, status
    // bar included, stays on the screen.
    app::fitToScreen(*this, QSize(1300, 840));
    if (options_.connectAtStart) connection_->startEmbedded(folder.filePath("coordinator"), options_.localWorkers);
}

ConsoleWindow::~ConsoleWindow() {
    // The pages use the services and the services use the connection: take them down in that order,
    // the coordinator and the local workers last.
    delete centralWidget();
    delete results_;
    delete watcher_;
    delete jobs_;
    delete model_;
    delete library_;
    delete connection_;
}

void ConsoleWindow::buildMenus() {
    auto* file = menuBar()->addMenu(tr("&File"));
    auto* import = file->addAction(tr("&Import dataset…"), datasetsPage_, [this] {
        showPage(Datasets);
        datasetsPage_->openImportDialog();
    });
    import->setShortcut(QKeySequence(tr("Ctrl+I")));
    file->addAction(tr("&Connect to a coordinator…"), this, &ConsoleWindow::connectDialog)
        ->setShortcut(QKeySequence(tr("Ctrl+K")));
    auto* refresh = file->addAction(tr("&Refresh devices"), devices_, &app::DeviceTable::refresh);
    refresh->setObjectName("refreshDevices");
    refresh->setShortcut(QKeySequence::Refresh);
    file->addSeparator();
    file->addAction(tr("&Quit"), qApp, &QApplication::quit)->setShortcut(QKeySequence::Quit);
    auto* go = menuBar()->addMenu(tr("&Go"));
    const QString names[] = {tr("&Datasets"), tr("&Models"),  tr("&New job"), tr("&Jobs"),
                             tr("&Training"), tr("&Results"), tr("&Compare"), tr("This &machine")};
    for (int i = 0; i < PageCount; ++i)
        go->addAction(names[i], this, [this, i] {
              showPage(Page(i));
          })->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    menuBar()->addMenu(tr("&Help"))->addAction(tr("&About Raven Console"), this, &ConsoleWindow::showAbout);
}

void ConsoleWindow::showPage(Page page) {
    sidebar_->setCurrentRow(page);
    pages_->setCurrentIndex(page);
}

ConsoleWindow::Page ConsoleWindow::currentPage() const { return Page(pages_->currentIndex()); }

void ConsoleWindow::openJob(const QString& jobId) {
    watcher_->watch(jobId);
    const LocalDatasetEntry* dataset = library_->find(jobs_->datasetOf(jobId));
    resultsPage_->setJob(jobId, dataset ? dataset->path : QString());
    jobsPage_->selectJob(jobId);
    sidebar_->item(Training)->setText(tr("    Job %1: training").arg(jobId));
    sidebar_->item(Results)->setText(tr("    Job %1: results").arg(jobId));
    showPage(Training);
}

void ConsoleWindow::showConnectionStatus() {
    const ConnectionState state = connection_->state();
    const char* dot = state == ConnectionState::Connected    ? "#2e7d32"
                      : state == ConnectionState::Retrying   ? "#c62828"
                      : state == ConnectionState::Connecting ? "#f9a825"
                                                             : "#757575";
    connectionLabel_->setText(QStringLiteral("<span style='color:%1'>●</span> %2")
                                  .arg(QLatin1String(dot), connection_->statusText().toHtmlEscaped()));
    // A long reason runs past the window's edge: the whole of it on hover.
    auto* client = connection_->client();
    connectionLabel_->setToolTip(state == ConnectionState::Connected && client ? client->serverFingerprint()
                                                                               : connection_->statusText());
}

void ConsoleWindow::connectionChanged() {
    const ConnectionState state = connection_->state();
    showConnectionStatus();
    workers_->setVisible(connection_->isEmbedded());
    if (connection_->isEmbedded() && !workers_->hasFocus()) {
        QSignalBlocker block(workers_);
        workers_->setValue(connection_->workerCount());
    }
    if (state == ConnectionState::Connected) {
        const QString key = connection_->isEmbedded()
                                ? QStringLiteral("this-machine")
                                : connection_->client()->coordinator().host() + "-" +
                                      QString::number(connection_->client()->coordinator().port());
        watcher_->setHistoryDirectory(QDir(options_.dataDirectory).filePath("history/" + key));
    }
}

void ConsoleWindow::connectDialog() {
    ConnectionDialog dialog(options_.localWorkers, this);
    if (dialog.exec() != QDialog::Accepted) return;
    if (dialog.embedded()) {
        options_.localWorkers = dialog.workers();
        connection_->startEmbedded(QDir(options_.dataDirectory).filePath("coordinator"), dialog.workers());
    } else {
        connection_->connectRemote(dialog.url(), dialog.apiKey(), QDir(options_.dataDirectory).filePath("known_hosts"));
    }
}

void ConsoleWindow::showAbout() {
    QMessageBox::about(this, tr("About Raven Console"),
                       tr("<b>Raven Console %1</b><p>Train neural networks on compute that volunteers donate.</p>")
                           .arg(QApplication::applicationVersion()));
}

}  // namespace raven::console
