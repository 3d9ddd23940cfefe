#pragma once
// ResultsPage: a job's trained model: download its latest checkpoint (safetensors with PyTorch
// names) with progress, evaluate it on the dataset's test split, and read the accuracy, per-class
// precision and recall and the confusion matrix, whose cells open the test samples behind them.
#include <QWidget>

class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTableView;

namespace raven::console {

class ConfusionMatrixModel;
class DatasetLibrary;
class ResultsService;
struct Evaluation;

class ResultsPage : public QWidget {
    Q_OBJECT
public:
    ResultsPage(ResultsService& results, DatasetLibrary& library, QWidget* parent = nullptr);
    // The job whose results the page shows, and the dataset (directory) it was trained on.
    void setJob(const QString& jobId, const QString& datasetPath);
    const QString& checkpointPath() const { return checkpoint_; }
    // What the Export button does after asking where.
    void exportTo(const QString& path);
    ConfusionMatrixModel* confusion() const { return confusion_; }

private:
    void showJob();  // jobId_ and datasetPath_, nothing evaluated yet
    void showEvaluation(const Evaluation& e);
    void openCell(const QModelIndex& cell);

    ResultsService& results_;
    DatasetLibrary& library_;
    QString jobId_, datasetPath_, checkpoint_;
    QLabel* header_;
    QPushButton* download_;
    QPushButton* evaluate_;
    QPushButton* export_;
    QProgressBar* progress_;
    QLabel* status_;
    QLabel* summary_;
    QLabel* hint_;        // in the results' place until there are some: what will appear, and how
    QWidget* evaluated_;  // the confusion matrix, the summary and a cell's samples
    ConfusionMatrixModel* confusion_;
    QTableView* matrix_;
    QLabel* cellTitle_;
    QListWidget* cellSamples_;
};

}  // namespace raven::console
