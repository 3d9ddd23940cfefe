#pragma once
// DatasetsPage: the imported datasets, a preview of the selected one (samples, class balance, shape,
// counts per split, shards) and its upload to the coordinator with progress.
#include <QWidget>

class QChartView;
class QLabel;
class QListView;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QStackedWidget;
class QTableView;

namespace raven::console {

class ConnectionService;
class DatasetLibrary;
class DatasetListModel;
class SamplePreviewModel;
struct DatasetPreview;

class DatasetsPage : public QWidget {
    Q_OBJECT
public:
    DatasetsPage(DatasetLibrary& library, ConnectionService& connection, QWidget* parent = nullptr);
    // The row selected in the list, -1 when none.
    int currentDataset() const;
    void selectDataset(int row);
    void openImportDialog();

private:
    void showPreview(const DatasetPreview& preview);
    void upload();

    DatasetLibrary& library_;
    ConnectionService& connection_;
    DatasetListModel* model_;
    SamplePreviewModel* samples_;
    QTableView* list_;
    QLabel* facts_;
    QStackedWidget* sampleViews_;
    QListView* imageGrid_;
    QTableView* table_;
    QPlainTextEdit* text_;
    QChartView* balance_;
    QPushButton* upload_;
    QProgressBar* uploadProgress_;
    QLabel* uploadStatus_;
};

}  // namespace raven::console
