#pragma once
// SubmitPage: a new job: dataset and the model being edited, optimizer and schedule settings, the
// budget with the requester's balance beside it and the cost estimate before anything is sent; a
// problem is shown beside its field and Submit waits until there is none. The training mode
// (every step together, or local steps for slow links) shows its own settings and a hint in plain
// words only when chosen.
#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace raven::console {

class ConnectionService;
class DatasetLibrary;
class JobsService;
class ModelDocument;
struct JobSettings;

class SubmitPage : public QWidget {
    Q_OBJECT
public:
    SubmitPage(DatasetLibrary& library, ModelDocument& document, JobsService& jobs, ConnectionService& connection,
               QWidget* parent = nullptr);
    JobSettings settings() const;

signals:
    void submitted(const QString& jobId);

private:
    void refresh();
    void submit();
    int datasetRow() const;

    DatasetLibrary& library_;
    ModelDocument& document_;
    JobsService& jobs_;
    ConnectionService& connection_;
    QLineEdit* name_;
    QComboBox* dataset_;
    QLabel* model_;
    QComboBox* optimizer_;
    QDoubleSpinBox* lr_;
    QLabel* lrProblem_;
    QComboBox* schedule_;
    QWidget* decayBox_;
    QSpinBox* decayEvery_;
    QDoubleSpinBox* decayFactor_;
    QWidget* warmupBox_;
    QSpinBox* warmup_;
    QWidget* minLrBox_;
    QDoubleSpinBox* minLr_;
    QLabel* scheduleProblem_;
    QSpinBox* batch_;
    QLabel* batchProblem_;
    QSpinBox* epochs_;
    QSpinBox* maxSteps_;
    QSpinBox* evalEvery_;
    QSpinBox* checkpointEvery_;
    QSpinBox* priority_;
    QComboBox* checking_;
    QComboBox* mode_;
    QLabel* modeHint_;
    QWidget* localBox_;
    QSpinBox* lanes_;
    QSpinBox* innerSteps_;
    QSpinBox* innerBatch_;
    QComboBox* staleness_;
    QComboBox* updates_;
    QComboBox* weightsDown_;
    QLabel* modeProblem_;
    QDoubleSpinBox* budget_;
    QLabel* balance_;
    QLabel* budgetProblem_;
    QLabel* estimate_;
    QPushButton* submit_;
    QProgressBar* progress_;
    QLabel* status_;
};

}  // namespace raven::console
