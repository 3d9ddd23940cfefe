#include "ModelsPage.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QJsonObject>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "DatasetLibrary.h"
#include "LayerTableModel.h"
#include "ModelDocument.h"
#include "base/Error.h"
#include "nn/LayerRegistry.h"

namespace raven::console {

ModelsPage::ModelsPage(ModelDocument& document, DatasetLibrary& library, QWidget* parent)
    : QWidget(parent), document_(document), library_(library) {
    layers_ = new LayerTableModel(document_, this);

    templates_ = new QComboBox;
    templates_->setObjectName("modelTemplate");
    templates_->addItems(modelTemplateNames());
    auto* useTemplate = new QPushButton(tr("&Start from template"));
    useTemplate->setObjectName("useTemplate");
    auto* open = new QPushButton(tr("&Open spec…"));
    dataset_ = new QComboBox;
    dataset_->setObjectName("modelDataset");
    auto* fit = new QPushButton(tr("&Fit to dataset"));
    fit->setObjectName("fitToDataset");
    fit->setToolTip(tr("Set the input shape, the vocabulary and the last layer's outputs from the dataset"));
    auto* top = new QHBoxLayout;
    top->addWidget(templates_);
    top->addWidget(useTemplate);
    top->addWidget(open);
    top->addSpacing(24);
    top->addWidget(new QLabel(tr("Check against:")));
    top->addWidget(dataset_, 1);
    top->addWidget(fit);

    table_ = new QTableView;
    table_->setObjectName("layerTable");
    table_->setModel(layers_);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setSectionResizeMode(LayerTableModel::Settings, QHeaderView::Stretch);
    table_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed |
                            QAbstractItemView::AnyKeyPressed);
    auto* add = new QPushButton(tr("&Add layer…"));
    add->setObjectName("addLayer");
    auto* remove = new QPushButton(tr("&Remove"));
    remove->setObjectName("removeLayer");
    auto* up = new QPushButton(tr("Move &up"));
    auto* down = new QPushButton(tr("Move &down"));
    auto* layerButtons = new QHBoxLayout;
    for (auto* b : {add, remove, up, down}) layerButtons->addWidget(b);
    layerButtons->addStretch();

    problem_ = new QLabel;
    problem_->setObjectName("modelProblem");
    problem_->setWordWrap(true);
    problem_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    totals_ = new QLabel;
    totals_->setObjectName("modelTotals");
    totals_->setWordWrap(true);

    auto* form = new QWidget;
    auto* formLayout = new QVBoxLayout(form);
    formLayout->setContentsMargins(0, 0, 0, 0);
    formLayout->addWidget(table_, 1);
    formLayout->addLayout(layerButtons);
    formLayout->addWidget(problem_);
    formLayout->addWidget(totals_);

    json_ = new QPlainTextEdit;
    json_->setObjectName("modelJson");
    json_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    json_->setTabChangesFocus(true);

    auto* split = new QSplitter;
    split->addWidget(form);
    split->addWidget(json_);
    split->setSizes({760, 380});
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(split, 1);

    connect(useTemplate, &QPushButton::clicked, this,
            [this] { document_.loadTemplate(ModelTemplate(templates_->currentIndex())); });
    connect(open, &QPushButton::clicked, this, &ModelsPage::openSpec);
    connect(fit, &QPushButton::clicked, &document_, &ModelDocument::fitToDataset);
    connect(add, &QPushButton::clicked, this, &ModelsPage::addLayer);
    connect(remove, &QPushButton::clicked, this, [this] { document_.removeLayer(currentLayer()); });
    connect(up, &QPushButton::clicked, this, [this] { moveCurrent(-1); });
    connect(down, &QPushButton::clicked, this, [this] { moveCurrent(+1); });
    connect(json_, &QPlainTextEdit::textChanged, this, [this] { document_.setText(json_->toPlainText()); });
    connect(&document_, &ModelDocument::changed, this, &ModelsPage::documentChanged);

    auto refillDatasets = [this] {
        const QString chosen = dataset_->currentData().toString();
        QSignalBlocker block(dataset_);
        dataset_->clear();
        dataset_->addItem(tr("(no dataset)"));
        for (const auto& d : library_.datasets())
            dataset_->addItem(QString::fromStdString(d.manifest.name), d.manifest.id);
        const int again = dataset_->findData(chosen);
        dataset_->setCurrentIndex(again > 0 ? again : (dataset_->count() > 1 ? 1 : 0));
        checkAgainstDataset(dataset_->currentIndex() - 1);
    };
    connect(&library_, &DatasetLibrary::datasetsChanged, this, refillDatasets);
    connect(dataset_, &QComboBox::currentIndexChanged, this, [this](int i) { checkAgainstDataset(i - 1); });
    refillDatasets();
    documentChanged(false);
}

void ModelsPage::checkAgainstDataset(int row) {
    if (dataset_->currentIndex() != row + 1) dataset_->setCurrentIndex(row + 1);
    if (row >= 0 && std::size_t(row) < library_.datasets().size())
        document_.setDataset(library_.datasets()[std::size_t(row)].manifest);
    else
        document_.setDataset(std::nullopt);
}

int ModelsPage::currentLayer() const { return table_->currentIndex().isValid() ? table_->currentIndex().row() : -1; }

void ModelsPage::documentChanged(bool fromText) {
    if (!fromText) {
        // The form changed the spec: show its JSON, without echoing it back as an edit.
        QSignalBlocker block(json_);
        const int cursor = json_->textCursor().position();
        json_->setPlainText(document_.text());
        QTextCursor c = json_->textCursor();
        c.setPosition(std::min(cursor, int(json_->toPlainText().size())));
        json_->setTextCursor(c);
    }
    const ModelCheck& check = document_.check();
    if (!document_.jsonProblem().isEmpty()) {
        problem_->setText(
            tr("⚠ The JSON is not valid (%1); the form shows the last valid spec.").arg(document_.jsonProblem()));
        problem_->setStyleSheet("color: #b00020");
    } else if (!check.ok()) {
        const QString where =
            check.layer >= 0
                ? tr("At layer %1 \"%2\": ").arg(check.layer + 1).arg(document_.layer(check.layer)["name"].toString())
                : QString();
        problem_->setText("⚠ " + where + check.problem);
        problem_->setStyleSheet("color: #b00020");
    } else {
        problem_->setText(document_.dataset() ? tr("✔ The model fits the dataset.") : tr("✔ The spec is valid."));
        problem_->setStyleSheet("color: #1b5e20");
    }
    if (check.layers.empty()) {
        totals_->clear();
    } else {
        // A work unit is at least one shard; a typical contributor is taken as 100 GFLOP/s, what Raven's
        // CPU kernels reach on two cores (docs/benchmarks.md): GPUs are faster, laptops slower.
        constexpr double kTypicalFlopsPerSecond = 100e9;
        const double shard = document_.dataset() ? double(document_.dataset()->shardSize) : 32.0;
        const double unitFlops = 3 * check.forwardFlops * shard;
        totals_->setText(tr("<b>Total</b>: %1 parameters (%2 as float32), %3 FLOPs per sample forward, %4 per "
                            "sample to train (forward and backward), %5 of activations per sample.<br>One work unit "
                            "(a shard of %6 samples) is %7 FLOPs: about %8 ms on a typical contributor "
                            "(100 GFLOP/s).")
                             .arg(QLocale().toString(qint64(check.parameters)), byteSize(double(check.parameters) * 4),
                                  compactNumber(check.forwardFlops), compactNumber(3 * check.forwardFlops),
                                  byteSize(double(check.activationBytes)))
                             .arg(shard)
                             .arg(compactNumber(unitFlops))
                             .arg(unitFlops / kTypicalFlopsPerSecond * 1000, 0, 'f', 1));
    }
    if (check.layer >= 0 && !check.ok()) table_->scrollTo(layers_->index(check.layer, 0));
}

void ModelsPage::openSpec() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open a model spec"), {}, tr("Model specs (*.json)"));
    if (path.isEmpty()) return;
    try {
        document_.open(path);
    } catch (const Error& e) {
        problem_->setText(QString::fromStdString(e.what()));
    }
}

void ModelsPage::addLayer() {
    QStringList kinds = QString::fromStdString(nn::layerKindList()).split(", ", Qt::SkipEmptyParts);
    bool ok = false;
    const QString kind = QInputDialog::getItem(this, tr("Add a layer"), tr("Kind of layer:"), kinds, 0, false, &ok);
    if (!ok) return;
    const int at = currentLayer() < 0 ? document_.layerCount() : currentLayer() + 1;
    QJsonObject layer{{"name", QStringLiteral("%1%2").arg(kind).arg(at + 1)}, {"kind", kind}};
    if (kind == "linear") layer["out"] = 64;
    if (kind == "conv2d") {
        layer["out_channels"] = 16;
        layer["kernel_size"] = 3;
        layer["padding"] = 1;
    }
    if (kind == "max_pool2d" || kind == "avg_pool2d") layer["kernel_size"] = 2;
    document_.insertLayer(at, layer);
    table_->setCurrentIndex(layers_->index(at, 0));
}

void ModelsPage::moveCurrent(int by) {
    const int from = currentLayer();
    if (from < 0) return;
    document_.moveLayer(from, from + by);
    table_->setCurrentIndex(layers_->index(std::clamp(from + by, 0, document_.layerCount() - 1), 0));
}

}  // namespace raven::console
