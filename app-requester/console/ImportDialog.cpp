#include "ImportDialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>

#include "DatasetLibrary.h"
#include "ErrorText.h"

namespace raven::console {

namespace {
// The field with its Browse button, and the form's label for them: the label's buddy is the field
// itself (not the row), so that its mnemonic puts the cursor there.
void addWithBrowse(QFormLayout* form, const QString& label, QLineEdit* edit, QPushButton* button) {
    auto* row = new QWidget;
    auto* l = new QHBoxLayout(row);
    l->setContentsMargins(0, 0, 0, 0);
    l->addWidget(edit);
    l->addWidget(button);
    auto* caption = new QLabel(label);
    caption->setBuddy(edit);
    form->addRow(caption, row);
}
}  // namespace

ImportDialog::ImportDialog(DatasetLibrary& library, QWidget* parent) : QDialog(parent), library_(library) {
    setWindowTitle(tr("Import a dataset"));
    setObjectName("importDialog");
    auto* form = new QFormLayout;
    format_ = new QComboBox;
    format_->setObjectName("importFormat");
    format_->addItems(datasetFormatNames());
    form->addRow(tr("&Format:"), format_);

    source_ = new QLineEdit;
    source_->setObjectName("importSource");
    auto* browseSource = new QPushButton(tr("&Browse…"));
    addWithBrowse(form, tr("Fil&es:"), source_, browseSource);
    labels_ = new QLineEdit;
    labels_->setObjectName("importLabels");
    labels_->setPlaceholderText(tr("y.npy: one class index per sample"));
    browseLabels_ = new QPushButton(tr("B&rowse…"));
    addWithBrowse(form, tr("&Labels:"), labels_, browseLabels_);
    problem_ = new QLabel;
    problem_->setObjectName("importProblem");
    problem_->setWordWrap(true);
    problem_->setStyleSheet("color: #b00020");
    problem_->hide();
    form->addRow(problem_);

    name_ = new QLineEdit;
    name_->setObjectName("importName");
    name_->setPlaceholderText(tr("from the files"));
    form->addRow(tr("&Name:"), name_);
    labelColumn_ = new QLineEdit;
    labelColumn_->setPlaceholderText(tr("\"label\", else the last column"));
    form->addRow(tr("Label &column:"), labelColumn_);
    imageSize_ = new QSpinBox;
    imageSize_->setRange(0, 1024);
    imageSize_->setSpecialValueText(tr("their own size"));
    imageSize_->setSuffix(tr(" px square"));
    form->addRow(tr("Resi&ze images to:"), imageSize_);
    rgb_ = new QCheckBox(tr("Keep colo&ur (3 channels)"));
    form->addRow(QString(), rgb_);
    context_ = new QSpinBox;
    context_->setRange(2, 4096);
    context_->setValue(64);
    context_->setSuffix(tr(" characters"));
    form->addRow(tr("Con&text per sample:"), context_);
    testFraction_ = new QDoubleSpinBox;
    testFraction_->setRange(0.01, 0.9);
    testFraction_->setSingleStep(0.05);
    testFraction_->setValue(0.1);
    form->addRow(tr("Test s&hare:"), testFraction_);
    maxTrain_ = new QSpinBox;
    maxTrain_->setObjectName("importMaxTrain");
    maxTrain_->setRange(0, 100'000'000);
    maxTrain_->setSpecialValueText(tr("all"));
    form->addRow(tr("Training samples (at &most):"), maxTrain_);
    maxTest_ = new QSpinBox;
    maxTest_->setObjectName("importMaxTest");
    maxTest_->setRange(0, 100'000'000);
    maxTest_->setSpecialValueText(tr("all"));
    form->addRow(tr("Test samples (at m&ost):"), maxTest_);

    stage_ = new QLabel;
    stage_->setObjectName("importStage");
    progress_ = new QProgressBar;
    progress_->setRange(0, 0);  // busy while the files are read; a percentage while shards are written
    progress_->setObjectName("importProgress");
    progress_->hide();
    auto* buttons = new QDialogButtonBox;
    import_ = buttons->addButton(tr("&Import"), QDialogButtonBox::AcceptRole);
    import_->setObjectName("importStart");
    import_->setDefault(true);
    cancel_ = buttons->addButton(QDialogButtonBox::Cancel);
    cancel_->setObjectName("importCancel");

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(stage_);
    layout->addWidget(progress_);
    layout->addWidget(buttons);

    connect(format_, &QComboBox::currentIndexChanged, this, &ImportDialog::formatChanged);
    connect(browseSource, &QPushButton::clicked, this, [this] {
        const auto f = DatasetFormat(format_->currentIndex());
        browse(source_, f == DatasetFormat::Idx || f == DatasetFormat::ImageFolder);
    });
    connect(browseLabels_, &QPushButton::clicked, this, [this] { browse(labels_, false); });
    connect(import_, &QPushButton::clicked, this, &ImportDialog::startImport);
    connect(cancel_, &QPushButton::clicked, this, &ImportDialog::reject);
    connect(&library_, &DatasetLibrary::importStage, stage_, &QLabel::setText);
    connect(&library_, &DatasetLibrary::importProgress, this, [this](int percent) {
        progress_->setRange(0, percent < 0 ? 0 : 100);
        if (percent >= 0) progress_->setValue(percent);
    });
    connect(&library_, &DatasetLibrary::imported, this, [this] {
        setBusy(false);
        accept();
    });
    connect(&library_, &DatasetLibrary::importCancelled, this, [this] {
        setBusy(false);
        stage_->setText(tr("Import cancelled; nothing was kept."));
    });
    connect(&library_, &DatasetLibrary::importFailed, this, [this](const QString& message, const QString& hint) {
        setBusy(false);
        stage_->clear();
        problem_->setText(app::errorSentences(message, hint));
        problem_->show();
        // The wrapped sentence needs more height than the dialog's minimum allows for (a window's
        // minimum does not follow a label's height-for-width): grow to fit it rather than overlap.
        adjustSize();
        source_->setFocus();
    });
    formatChanged();
}

void ImportDialog::formatChanged() {
    const auto f = DatasetFormat(format_->currentIndex());
    labels_->setEnabled(f == DatasetFormat::Npy);
    browseLabels_->setEnabled(f == DatasetFormat::Npy);
    labelColumn_->setEnabled(f == DatasetFormat::Csv);
    imageSize_->setEnabled(f == DatasetFormat::ImageFolder);
    rgb_->setEnabled(f == DatasetFormat::ImageFolder);
    context_->setEnabled(f == DatasetFormat::TextCorpus);
    testFraction_->setEnabled(f != DatasetFormat::Idx);
    static const char* placeholders[] = {
        QT_TR_NOOP("a folder with train-/t10k- images and labels (.gz or raw)"), QT_TR_NOOP("a .csv file"),
        QT_TR_NOOP("x.npy: the features, one sample per row"), QT_TR_NOOP("a folder with one sub-folder per class"),
        QT_TR_NOOP("a UTF-8 text file")};
    source_->setPlaceholderText(tr(placeholders[int(f)]));
}

void ImportDialog::browse(QLineEdit* target, bool folder) {
    const QString chosen = folder ? QFileDialog::getExistingDirectory(this, tr("Choose a folder"), target->text())
                                  : QFileDialog::getOpenFileName(this, tr("Choose a file"), target->text());
    if (!chosen.isEmpty()) target->setText(chosen);
}

ImportRequest ImportDialog::request() const {
    ImportRequest r;
    r.format = DatasetFormat(format_->currentIndex());
    r.sources = {source_->text().trimmed()};
    if (r.format == DatasetFormat::Npy) r.sources << labels_->text().trimmed();
    r.name = name_->text();
    r.labelColumn = labelColumn_->text();
    r.imageWidth = r.imageHeight = imageSize_->value();
    r.rgb = rgb_->isChecked();
    r.contextLength = context_->value();
    r.testFraction = testFraction_->value();
    r.maxTrainSamples = maxTrain_->value();
    r.maxTestSamples = maxTest_->value();
    return r;
}

void ImportDialog::startImport() {
    problem_->hide();
    progress_->setRange(0, 0);
    setBusy(true);
    library_.startImport(request());
}

void ImportDialog::setBusy(bool busy) {
    progress_->setVisible(busy);
    import_->setEnabled(!busy);
    for (QWidget* w : findChildren<QLineEdit*>()) w->setEnabled(!busy);
    if (!busy) formatChanged();
}

void ImportDialog::reject() {
    if (library_.isImporting()) {
        stage_->setText(tr("Cancelling…"));
        library_.cancelImport();
        return;
    }
    QDialog::reject();
}

}  // namespace raven::console
