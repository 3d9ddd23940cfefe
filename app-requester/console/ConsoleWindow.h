#pragma once
// The requester console's main window: a sidebar with Datasets, Models, New job, Jobs, the open
// job's own pages (Training, Results), Compare and This machine, the pages beside it, and the connection's state always
// in the status bar. The window only arranges: the services (ConnectionService, DatasetLibrary, JobsService,
// JobWatcher, ResultsService) do the work, the item models show it, the pages hold the controls.
#include <QMainWindow>

class QLabel;
class QListWidget;
class QSpinBox;
class QStackedWidget;

namespace raven::app {
class DeviceTable;
}

namespace raven::console {

class ComparePage;
class ConnectionService;
class DatasetLibrary;
class DatasetsPage;
class JobWatcher;
class JobsPage;
class JobsService;
class ModelDocument;
class ModelsPage;
class ResultsPage;
class ResultsService;
class SubmitPage;
class WatchPage;

struct ConsoleOptions {
    QString dataDirectory;  // empty: the user's data folder (~/.local/share/Raven/raven-console)
    int localWorkers = 2;
    bool connectAtStart = false;  // start the embedded coordinator at once (raven-console does)
};

class ConsoleWindow : public QMainWindow {
    Q_OBJECT
public:
    enum Page { Datasets, Models, NewJob, Jobs, Training, Results, Compare, Devices, PageCount };

    explicit ConsoleWindow(ConsoleOptions options = {}, QWidget* parent = nullptr);
    ~ConsoleWindow() override;

    void showPage(Page page);
    Page currentPage() const;
    // Opens a job's own pages (Training, then Results).
    void openJob(const QString& jobId);

    ConnectionService& connection() { return *connection_; }
    DatasetLibrary& datasets() { return *library_; }
    ModelDocument& model() { return *model_; }
    JobsService& jobs() { return *jobs_; }
    JobWatcher& watcher() { return *watcher_; }
    DatasetsPage* datasetsPage() const { return datasetsPage_; }
    ModelsPage* modelsPage() const { return modelsPage_; }
    SubmitPage* submitPage() const { return submitPage_; }
    JobsPage* jobsPage() const { return jobsPage_; }
    WatchPage* watchPage() const { return watchPage_; }
    ResultsPage* resultsPage() const { return resultsPage_; }
    ComparePage* comparePage() const { return comparePage_; }
    // Where evaluation and local training run: this machine's compute devices.
    app::DeviceTable* devices() const { return devices_; }

private:
    void buildMenus();
    void connectDialog();
    void connectionChanged();
    void showConnectionStatus();
    void showAbout();

    ConsoleOptions options_;
    ConnectionService* connection_;
    DatasetLibrary* library_;
    ModelDocument* model_;
    JobsService* jobs_;
    JobWatcher* watcher_;
    ResultsService* results_;
    QListWidget* sidebar_;
    QStackedWidget* pages_;
    DatasetsPage* datasetsPage_;
    ModelsPage* modelsPage_;
    SubmitPage* submitPage_;
    JobsPage* jobsPage_;
    WatchPage* watchPage_;
    ResultsPage* resultsPage_;
    ComparePage* comparePage_;
    app::DeviceTable* devices_;
    QLabel* connectionLabel_;
    QSpinBox* workers_;
};

}  // namespace raven::console
