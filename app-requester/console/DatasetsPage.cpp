#include "DatasetsPage.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHorizontalBarSeries>
#include <QLabel>
#include <QListView>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableView>
#include <QVBoxLayout>
#include <QValueAxis>
#include <algorithm>

#include "ConnectionService.h"
#include "DatasetLibrary.h"
#include "DatasetListModel.h"
#include "ImportDialog.h"
#include "LayerTableModel.h"
#include "SamplePreviewModel.h"
#include "nn/Architecture.h"

namespace raven::console {

DatasetsPage::DatasetsPage(DatasetLibrary& library, ConnectionService& connection, QWidget* parent)
    : QWidget(parent), library_(library), connection_(connection) {
    model_ = new DatasetListModel(library_, this);
    samples_ = new SamplePreviewModel(this);

    auto* importButton = new QPushButton(tr("&Import…"));
    importButton->setObjectName("importDataset");
    upload_ = new QPushButton(tr("&Upload to the coordinator"));
    upload_->setObjectName("uploadDataset");
    uploadProgress_ = new QProgressBar;
    uploadProgress_->setObjectName("uploadProgress");
    uploadProgress_->hide();
    uploadStatus_ = new QLabel;
    uploadStatus_->setObjectName("uploadStatus");
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(importButton);
    buttons->addWidget(upload_);
    buttons->addWidget(uploadProgress_);
    buttons->addWidget(uploadStatus_, 1);

    list_ = new QTableView;
    list_->setObjectName("datasetList");
    list_->setModel(model_);
    list_->setSelectionBehavior(QAbstractItemView::SelectRows);
    list_->setSelectionMode(QAbstractItemView::SingleSelection);
    list_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    list_->horizontalHeader()->setStretchLastSection(true);
    list_->verticalHeader()->hide();

    facts_ = new QLabel(tr("Import a dataset to begin: IDX, CSV, NumPy, an image folder or a text corpus."));
    facts_->setObjectName("datasetFacts");
    facts_->setWordWrap(true);
    facts_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    imageGrid_ = new QListView;
    imageGrid_->setObjectName("sampleGrid");
    imageGrid_->setViewMode(QListView::IconMode);
    imageGrid_->setIconSize(QSize(56, 56));
    imageGrid_->setGridSize(QSize(96, 84));
    imageGrid_->setResizeMode(QListView::Adjust);
    imageGrid_->setMovement(QListView::Static);
    imageGrid_->setModel(samples_);
    table_ = new QTableView;
    table_->setObjectName("sampleTable");
    table_->setModel(samples_);
    text_ = new QPlainTextEdit;
    text_->setObjectName("sampleText");
    text_->setReadOnly(true);
    sampleViews_ = new QStackedWidget;
    sampleViews_->addWidget(imageGrid_);
    sampleViews_->addWidget(table_);
    sampleViews_->addWidget(text_);

    balance_ = new QChartView;
    balance_->setObjectName("classBalance");
    balance_->setRenderHint(QPainter::Antialiasing);
    balance_->setMinimumHeight(220);

    auto* preview = new QWidget;
    auto* previewLayout = new QVBoxLayout(preview);
    previewLayout->addWidget(facts_);
    auto* previewSplit = new QSplitter(Qt::Horizontal);
    previewSplit->addWidget(sampleViews_);
    previewSplit->addWidget(balance_);
    previewSplit->setSizes({620, 520});
    previewLayout->addWidget(previewSplit, 1);

    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(list_);
    split->addWidget(preview);
    split->setSizes({140, 600});
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addWidget(split, 1);

    connect(importButton, &QPushButton::clicked, this, &DatasetsPage::openImportDialog);
    connect(upload_, &QPushButton::clicked, this, &DatasetsPage::upload);
    connect(list_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& i) {
        samples_->clear();
        facts_->setText(tr("Reading the samples…"));
        library_.loadPreview(i.row());
    });
    connect(&library_, &DatasetLibrary::previewReady, this, &DatasetsPage::showPreview);
    connect(&library_, &DatasetLibrary::previewFailed, this,
            [this](const QString& message) { facts_->setText(tr("This dataset cannot be read: %1").arg(message)); });
    connect(&library_, &DatasetLibrary::imported, this, &DatasetsPage::selectDataset);
    connect(&library_, &DatasetLibrary::uploadProgress, this, [this](int sent, int toSend) {
        uploadProgress_->setRange(0, toSend);
        uploadProgress_->setValue(sent);
        uploadStatus_->setText(tr("%1 of %2 shards sent").arg(sent).arg(toSend));
    });
    connect(&library_, &DatasetLibrary::uploaded, this, [this](const QString&, int sent, int total) {
        uploadProgress_->hide();
        upload_->setEnabled(true);
        uploadStatus_->setText(
            tr("On the coordinator: %1 shards sent now, %2 were there already.").arg(sent).arg(total - sent));
    });
    connect(&library_, &DatasetLibrary::uploadFailed, this, [this](const QString& message) {
        uploadProgress_->hide();
        upload_->setEnabled(true);
        uploadStatus_->setText(tr("The upload stopped: %1 Upload again to send only what is missing.").arg(message));
    });
    if (model_->rowCount() > 0) selectDataset(0);
}

int DatasetsPage::currentDataset() const {
    const QModelIndex i = list_->currentIndex();
    return i.isValid() ? i.row() : -1;
}

void DatasetsPage::selectDataset(int row) {
    list_->setCurrentIndex(model_->index(row, 0));
    list_->setFocus();
}

void DatasetsPage::openImportDialog() {
    auto* dialog = new ImportDialog(library_, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
}

void DatasetsPage::upload() {
    const int row = currentDataset();
    auto* client = connection_.client();
    if (row < 0) {
        uploadStatus_->setText(tr("Choose a dataset in the list first."));
        return;
    }
    if (!client) {
        uploadStatus_->setText(tr("Not connected to a coordinator; the status bar says why."));
        return;
    }
    upload_->setEnabled(false);
    uploadProgress_->setRange(0, 0);
    uploadProgress_->show();
    uploadStatus_->setText(tr("Asking the coordinator which shards it lacks…"));
    library_.upload(row, *client);
}

void DatasetsPage::showPreview(const DatasetPreview& p) {
    const auto& m = p.manifest;
    facts_->setText(tr("<b>%1</b> — samples of shape %2 (%3 in shards), %4 classes<br>"
                       "%L5 training and %L6 test samples in %7 shards of up to %8 samples, %9 on disk<br>"
                       "<small>id %10</small>")
                        .arg(QString::fromStdString(m.name).toHtmlEscaped(),
                             QString::fromStdString(nn::shapeText(m.featureShape)),
                             QString::fromStdString(data::toString(m.elementType)))
                        .arg(m.classes.size())
                        .arg(m.train.samples)
                        .arg(m.test.samples)
                        .arg(p.shardCount())
                        .arg(m.shardSize)
                        .arg(byteSize(double(p.shardBytes)), m.id));
    samples_->setPreview(p);
    if (p.kind == PreviewKind::Text) text_->setPlainText(p.text);
    sampleViews_->setCurrentIndex(int(p.kind));

    auto* chart = new QChart;
    chart->setTitle(tr("Samples per class"));
    if (!p.trainPerClass.empty()) {
        auto* train = new QBarSet(tr("train"));
        auto* test = new QBarSet(tr("test"));
        QStringList names;
        std::int64_t most = 1;
        for (std::size_t c = 0; c < p.trainPerClass.size(); ++c) {
            *train << double(p.trainPerClass[c]);
            *test << double(p.testPerClass[c]);
            names << p.className(int(c));
            most = std::max({most, p.trainPerClass[c], p.testPerClass[c]});
        }
        // Horizontal bars: class names are read in full along the left axis.
        auto* series = new QHorizontalBarSeries;
        series->append(train);
        series->append(test);
        chart->addSeries(series);
        auto* classes = new QBarCategoryAxis;
        classes->append(names);
        auto* counts = new QValueAxis;
        counts->setRange(0, double(most));
        counts->applyNiceNumbers();
        counts->setLabelFormat("%d");
        chart->addAxis(classes, Qt::AlignLeft);
        chart->addAxis(counts, Qt::AlignBottom);
        series->attachAxis(classes);
        series->attachAxis(counts);
    } else {
        chart->setTitle(
            tr("Samples per class: not shown for sequence labels (%1 tokens in the vocabulary)").arg(m.classes.size()));
    }
    QChart* old = balance_->chart();
    balance_->setChart(chart);
    delete old;
}

}  // namespace raven::console
