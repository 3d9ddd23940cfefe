#include "ResultsPage.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIcon>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QPixmap>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "ConfusionMatrixModel.h"
#include "DatasetLibrary.h"
#include "DatasetPreview.h"
#include "ResultsService.h"

namespace raven::console {

ResultsPage::ResultsPage(ResultsService& results, DatasetLibrary& library, QWidget* parent)
    : QWidget(parent), results_(results), library_(library) {
    header_ = new QLabel;
    header_->setObjectName("resultsHeader");
    download_ = new QPushButton(tr("&Download the latest checkpoint"));
    download_->setObjectName("downloadCheckpoint");
    evaluate_ = new QPushButton(tr("&Evaluate on the test split"));
    evaluate_->setObjectName("evaluateCheckpoint");
    export_ = new QPushButton(tr("E&xport (safetensors or ONNX)…"));
    export_->setObjectName("exportModel");
    export_->setToolTip(
        tr("The model without the optimizer state, with the dataset's normalization, class names and "
           "input shape, so it predicts right elsewhere: safetensors for PyTorch, or ONNX (opset 17) with "
           "the normalization inside the graph, for raw inputs"));
    progress_ = new QProgressBar;
    progress_->hide();
    status_ = new QLabel;
    status_->setObjectName("resultsStatus");
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    summary_ = new QLabel;
    summary_->setObjectName("resultsSummary");
    summary_->setWordWrap(true);
    summary_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    confusion_ = new ConfusionMatrixModel(this);
    matrix_ = new QTableView;
    matrix_->setObjectName("confusionMatrix");
    matrix_->setModel(confusion_);
    matrix_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    matrix_->setToolTip(
        tr("Rows: the true class. Columns: what the model predicted. Open a cell (Enter or "
           "double click) to see its samples."));
    cellTitle_ = new QLabel;
    cellSamples_ = new QListWidget;
    cellSamples_->setObjectName("cellSamples");
    cellSamples_->setViewMode(QListView::IconMode);
    cellSamples_->setIconSize(QSize(56, 56));
    cellSamples_->setGridSize(QSize(72, 80));
    cellSamples_->setResizeMode(QListView::Adjust);
    cellSamples_->setMovement(QListView::Static);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(download_);
    buttons->addWidget(evaluate_);
    buttons->addWidget(export_);
    buttons->addWidget(progress_, 1);
    auto* cell = new QWidget;
    auto* cellLayout = new QVBoxLayout(cell);
    cellLayout->setContentsMargins(0, 0, 0, 0);
    cellLayout->addWidget(cellTitle_);
    cellLayout->addWidget(cellSamples_, 1);
    auto* top = new QSplitter(Qt::Horizontal);
    top->addWidget(matrix_);
    top->addWidget(summary_);
    top->setSizes({800, 300});
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(top);
    split->addWidget(cell);
    split->setStretchFactor(0, 3);
    evaluated_ = split;
    hint_ = new QLabel;
    hint_->setObjectName("resultsHint");
    hint_->setWordWrap(true);
    hint_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(header_);
    layout->addLayout(buttons);
    layout->addWidget(status_);
    layout->addWidget(split, 1);
    layout->addWidget(hint_, 1);

    connect(download_, &QPushButton::clicked, this, [this] {
        if (jobId_.isEmpty()) return;
        download_->setEnabled(false);
        progress_->setRange(0, 0);
        progress_->show();
        status_->setText(tr("Downloading…"));
        results_.download(jobId_);
    });
    connect(&results_, &ResultsService::downloadProgress, this, [this](qint64 received, qint64 total) {
        progress_->setRange(0, 1000);
        progress_->setValue(total > 0 ? int(1000 * received / total) : 0);
    });
    connect(&results_, &ResultsService::downloaded, this, [this](const QString& job, const QString& path, quint64 v) {
        if (job != jobId_) return;
        progress_->hide();
        download_->setEnabled(true);
        checkpoint_ = path;
        evaluate_->setEnabled(!datasetPath_.isEmpty());
        export_->setEnabled(!datasetPath_.isEmpty());
        status_->setText(
            tr("Checkpoint after step %1 saved as %2 (safetensors: PyTorch loads it by name).").arg(v).arg(path));
    });
    connect(&results_, &ResultsService::downloadFailed, this, [this](const QString& message) {
        progress_->hide();
        download_->setEnabled(true);
        status_->setText(tr("⚠ The download failed: %1").arg(message));
    });
    connect(evaluate_, &QPushButton::clicked, this, [this] {
        if (checkpoint_.isEmpty() || datasetPath_.isEmpty()) return;
        evaluate_->setEnabled(false);
        progress_->setRange(0, 0);
        progress_->show();
        status_->setText(tr("Evaluating on the test split on this machine…"));
        results_.evaluate(checkpoint_, datasetPath_);
    });
    connect(&results_, &ResultsService::evaluated, this, &ResultsPage::showEvaluation);
    connect(&results_, &ResultsService::evaluationFailed, this, [this](const QString& message) {
        progress_->hide();
        evaluate_->setEnabled(true);
        status_->setText(tr("⚠ The evaluation failed: %1").arg(message));
    });
    connect(matrix_, &QTableView::activated, this, &ResultsPage::openCell);
    connect(export_, &QPushButton::clicked, this, [this] {
        QString filter;
        QString path = QFileDialog::getSaveFileName(
            this, tr("Export the model"), QFileInfo(checkpoint_).dir().filePath("model.safetensors"),
            tr("safetensors for PyTorch (*.safetensors);;ONNX, normalization inside (*.onnx)"), &filter);
        if (path.isEmpty()) return;
        // The chosen format decides the file's suffix, which decides the format written.
        const bool onnx = filter.contains(QLatin1String("*.onnx"));
        if (onnx != path.endsWith(QLatin1String(".onnx"), Qt::CaseInsensitive))
            exportTo(QFileInfo(path).dir().filePath(QFileInfo(path).completeBaseName() +
                                                    (onnx ? QStringLiteral(".onnx") : QStringLiteral(".safetensors"))));
        else
            exportTo(path);
    });
    connect(&results_, &ResultsService::exported, this, [this](const QString& path) {
        status_->setText(
            path.endsWith(".onnx", Qt::CaseInsensitive)
                ? tr("Exported as %1 (ONNX opset 17): the dataset's normalization is inside the graph, "
                     "so give it raw inputs; class names and input shape are in its metadata.")
                      .arg(path)
                : tr("Exported as %1 with the dataset's normalization, class names and input shape.").arg(path));
    });
    connect(&results_, &ResultsService::exportFailed, this,
            [this](const QString& message) { status_->setText(tr("⚠ The export failed: %1").arg(message)); });
    showJob();
}

void ResultsPage::setJob(const QString& jobId, const QString& datasetPath) {
    if (jobId == jobId_ && datasetPath == datasetPath_) return;
    jobId_ = jobId;
    datasetPath_ = datasetPath;
    showJob();
}

void ResultsPage::showJob() {
    checkpoint_.clear();
    confusion_->setEvaluation({});
    summary_->clear();
    // The place of the results says what will fill it and how, rather than stay blank.
    if (jobId_.isEmpty())
        hint_->setText(
            tr("A job's test accuracy, each class's precision and recall, and its confusion matrix "
               "appear here. Open a job on the Jobs page (Ctrl+4: Enter, a double click or Watch), "
               "or submit one on the New job page (Ctrl+3)."));
    else if (datasetPath_.isEmpty())
        hint_->clear();  // the status line says why only the download is possible
    else
        hint_->setText(
            tr("Download the latest checkpoint, then evaluate it on the test split: the test "
               "accuracy, each class's precision and recall, and the confusion matrix appear "
               "here."));
    hint_->setVisible(!hint_->text().isEmpty());
    evaluated_->setVisible(hint_->text().isEmpty());
    cellSamples_->clear();
    cellTitle_->clear();
    status_->clear();
    download_->setEnabled(!jobId_.isEmpty());
    evaluate_->setEnabled(false);
    export_->setEnabled(false);
    header_->setText(jobId_.isEmpty() ? tr("<h2>Results</h2>") : tr("<h2>Results of job %1</h2>").arg(jobId_));
    if (!jobId_.isEmpty() && datasetPath_.isEmpty())
        status_->setText(
            tr("The job's dataset is not on this machine, so it can be downloaded but not evaluated here."));
}

void ResultsPage::exportTo(const QString& path) {
    if (checkpoint_.isEmpty() || datasetPath_.isEmpty()) return;
    results_.exportModel(checkpoint_, datasetPath_, path);
}

void ResultsPage::showEvaluation(const Evaluation& e) {
    progress_->hide();
    evaluate_->setEnabled(true);
    status_->clear();
    confusion_->setEvaluation(e);
    hint_->hide();
    evaluated_->show();
    QString perClass;
    for (int c = 0; c < e.classes.size(); ++c)
        perClass += tr("<tr><td>%1</td><td align=right>%2%</td><td align=right>%3%</td></tr>")
                        .arg(e.classes[c].toHtmlEscaped())
                        .arg(100 * e.precision(c), 0, 'f', 1)
                        .arg(100 * e.recall(c), 0, 'f', 1);
    summary_->setText(tr("<b>Test accuracy %1%</b> on %L2 samples.<table cellspacing=6><tr><th align=left>class</th>"
                         "<th>precision</th><th>recall</th></tr>%3</table>")
                          .arg(100 * e.accuracy, 0, 'f', 2)
                          .arg(e.samples)
                          .arg(perClass));
}

void ResultsPage::openCell(const QModelIndex& cell) {
    const auto samples = cell.data(ConfusionMatrixModel::SamplesRole).value<QList<qint64>>();
    const auto& e = confusion_->evaluation();
    cellTitle_->setText(tr("Test samples of \"%1\" predicted as \"%2\" (%3 shown):")
                            .arg(e.classes.value(cell.row()), e.classes.value(cell.column()))
                            .arg(samples.size()));
    cellSamples_->clear();
    try {
        for (const QImage& image : testSampleImages(datasetPath_, samples))
            cellSamples_->addItem(new QListWidgetItem(QIcon(QPixmap::fromImage(image.scaled(56, 56))), QString()));
    } catch (const std::exception& ex) {
        cellTitle_->setText(tr("The samples cannot be shown: %1").arg(QString::fromUtf8(ex.what())));
    }
}

}  // namespace raven::console
