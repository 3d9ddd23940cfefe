#include "SubmitPage.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>

#include "ConnectionService.h"
#include "CostEstimate.h"
#include "CreditsSpinBox.h"
#include "CreditsText.h"
#include "DatasetLibrary.h"
#include "JobSettings.h"
#include "JobsService.h"
#include "LayerTableModel.h"
#include "RateSpinBox.h"
#include "ModelDocument.h"
#include "ScrollWheel.h"
#include "requester/Credits.h"

namespace raven::console {

namespace {
QLabel* problemLabel(const char* name) {
    auto* l = new QLabel;
    l->setObjectName(QString::fromLatin1(name));
    l->setWordWrap(true);
    l->setStyleSheet("color: #b00020");
    l->hide();
    return l;
}
void showProblem(QLabel* label, const QString& text) {
    label->setText(text);
    label->setVisible(!text.isEmpty());
}
// What the chosen mode means for the requester, with the measured figures of docs/training.md.
QString trainingModeHint(bool local, int innerSteps, int staleness) {
    if (!local)
        return QObject::tr(
            "All contributors compute every step together and send a full gradient each step: "
            "the same model as training on one machine. Best when contributors have fast links, "
            "or when results must be recomputed to be checked.");
    QString hint = QObject::tr(
                       "Each lane takes %1 steps on its own, then its contributor sends one update: about "
                       "%1× less upload than every step together. Measured on Fashion-MNIST: within 0.4 points of "
                       "every step together with 8 or 32 steps on the MLP and with 32 on the CNN (8 steps 1.6 "
                       "points lower there, 128 steps 0.7); 1 step gains nothing. For home and slow links; the "
                       "longer a lane computes, the less contributors wait for each other.")
                       .arg(innerSteps);
    if (staleness > 0)
        hint += QObject::tr(
            " Starting the next round at once keeps contributors busy while the coordinator "
            "combines the updates, with a gentler combining step; it still cost 1.3 to 2.9 points of accuracy "
            "in our measurements and saved little time over slow links. Choose it only when contributors "
            "would otherwise wait long for each round.");
    return hint;
}
}  // namespace

SubmitPage::SubmitPage(DatasetLibrary& library, ModelDocument& document, JobsService& jobs,
                       ConnectionService& connection, QWidget* parent)
    : QWidget(parent), library_(library), document_(document), jobs_(jobs), connection_(connection) {
    auto* form = new QFormLayout;
    name_ = new QLineEdit;
    name_->setObjectName("jobName");
    name_->setPlaceholderText(tr("the model's name"));
    form->addRow(tr("Job &name:"), name_);
    dataset_ = new QComboBox;
    dataset_->setObjectName("jobDataset");
    form->addRow(tr("&Dataset:"), dataset_);
    model_ = new QLabel;
    model_->setObjectName("jobModel");
    model_->setWordWrap(true);
    form->addRow(tr("Model:"), model_);
    optimizer_ = new QComboBox;
    optimizer_->setObjectName("jobOptimizer");
    optimizer_->addItems({tr("Adam"), tr("AdamW"), tr("SGD"), tr("SGD with momentum 0.9")});
    form->addRow(tr("&Optimizer:"), optimizer_);
    lr_ = new RateSpinBox;
    lr_->setObjectName("jobLearningRate");
    lr_->setRange(0.000001, 10);
    lr_->setSingleStep(0.0001);
    lr_->setValue(0.001);
    form->addRow(tr("&Learning rate:"), lr_);
    lrProblem_ = problemLabel("learningRateProblem");
    form->addRow(lrProblem_);
    // The schedule and, beside it, only the settings of the chosen one.
    schedule_ = new QComboBox;
    schedule_->setObjectName("jobSchedule");
    schedule_->addItems(scheduleChoiceNames());
    auto labelled = [](const QString& text, QWidget* field) {
        auto* box = new QWidget;
        auto* row = new QHBoxLayout(box);
        row->setContentsMargins(0, 0, 0, 0);
        auto* label = new QLabel(text);
        label->setBuddy(field);
        row->addWidget(label);
        row->addWidget(field);
        return box;
    };
    decayEvery_ = new QSpinBox;
    decayEvery_->setObjectName("jobDecayEvery");
    decayEvery_->setRange(1, 10'000'000);
    decayEvery_->setValue(100);
    decayEvery_->setSuffix(tr(" steps"));
    decayFactor_ = new QDoubleSpinBox;
    decayFactor_->setObjectName("jobDecayFactor");
    decayFactor_->setDecimals(3);
    decayFactor_->setRange(0.001, 1);
    decayFactor_->setSingleStep(0.05);
    decayFactor_->setValue(0.5);
    decayBox_ = new QWidget;
    auto* decayRow = new QHBoxLayout(decayBox_);
    decayRow->setContentsMargins(0, 0, 0, 0);
    decayRow->addWidget(labelled(tr("×"), decayFactor_));
    decayRow->addWidget(labelled(tr("ever&y"), decayEvery_));
    warmup_ = new QSpinBox;
    warmup_->setObjectName("jobWarmupSteps");
    warmup_->setRange(1, 10'000'000);
    warmup_->setValue(100);
    warmup_->setSuffix(tr(" steps"));
    warmupBox_ = labelled(tr("&warm-up"), warmup_);
    minLr_ = new RateSpinBox;
    minLr_->setObjectName("jobMinLearningRate");
    minLr_->setRange(0, 10);
    minLr_->setSingleStep(0.00001);
    minLrBox_ = labelled(tr("down &to"), minLr_);
    auto* scheduleRow = new QHBoxLayout;
    scheduleRow->addWidget(schedule_);
    scheduleRow->addWidget(decayBox_);
    scheduleRow->addWidget(warmupBox_);
    scheduleRow->addWidget(minLrBox_);
    scheduleRow->addStretch();
    auto* scheduleLabel = new QLabel(tr("Learning-rate sc&hedule:"));
    scheduleLabel->setBuddy(schedule_);
    form->addRow(scheduleLabel, scheduleRow);
    scheduleProblem_ = problemLabel("scheduleProblem");
    form->addRow(scheduleProblem_);
    batch_ = new QSpinBox;
    batch_->setObjectName("jobBatch");
    batch_->setRange(1, 65536);
    batch_->setSingleStep(32);
    batch_->setValue(128);
    batch_->setSuffix(tr(" samples per step"));
    form->addRow(tr("&Batch size:"), batch_);
    batchProblem_ = problemLabel("batchProblem");
    form->addRow(batchProblem_);
    epochs_ = new QSpinBox;
    epochs_->setObjectName("jobEpochs");
    epochs_->setRange(1, 10000);
    form->addRow(tr("&Epochs:"), epochs_);
    maxSteps_ = new QSpinBox;
    maxSteps_->setObjectName("jobMaxSteps");
    maxSteps_->setRange(0, 100'000'000);
    maxSteps_->setSpecialValueText(tr("as the epochs take"));
    form->addRow(tr("&Stop after steps:"), maxSteps_);
    evalEvery_ = new QSpinBox;
    evalEvery_->setObjectName("jobEvalEvery");
    evalEvery_->setRange(0, 1'000'000);
    evalEvery_->setSpecialValueText(tr("after every epoch"));
    form->addRow(tr("E&valuate every (steps):"), evalEvery_);
    checkpointEvery_ = new QSpinBox;
    checkpointEvery_->setRange(0, 1'000'000);
    checkpointEvery_->setSpecialValueText(tr("the coordinator's default"));
    form->addRow(tr("&Checkpoint every (steps):"), checkpointEvery_);
    priority_ = new QSpinBox;
    priority_->setRange(-100, 100);
    priority_->setToolTip(tr("Higher runs first among your jobs that have budget"));
    form->addRow(tr("&Priority:"), priority_);
    checking_ = new QComboBox;
    checking_->setObjectName("jobChecking");
    checking_->addItems(resultCheckingNames());
    checking_->setItemData(int(ResultChecking::Sanity),
                           tr("Contributors' results are checked for size and finite values only. The fastest; "
                              "a wrong result from a dishonest contributor counts like any other."),
                           Qt::ToolTipRole);
    checking_->setItemData(int(ResultChecking::ClipOutliers),
                           tr("Each step limits how far any one result can pull the model, and reports results "
                              "that lie far from the others. Costs little; keeps the step's results in memory "
                              "until the step."),
                           Qt::ToolTipRole);
    checking_->setItemData(int(ResultChecking::SpotCheck),
                           tr("Results far from the others are clipped, and the coordinator recomputes a share "
                              "of every contributor's work with the same fast kernels: a result off by more than "
                              "rounding is caught, unpaid, and its sender gets no more work. Costs the "
                              "coordinator's own computing time, most for new contributors."),
                           Qt::ToolTipRole);
    checking_->setItemData(int(ResultChecking::Recompute),
                           tr("Contributors compute with bit-exact kernels, and the coordinator recomputes a share "
                              "of every contributor's work: a wrong result is caught, unpaid, and its sender "
                              "gets no more work. Slower kernels; the MLP, CNN and other models without "
                              "pooling, normalization, dropout or attention."),
                           Qt::ToolTipRole);
    checking_->setToolTip(tr("How the coordinator checks what volunteers send back (docs/verification.md)"));
    form->addRow(tr("Result chec&ks:"), checking_);
    // The training mode: its settings beside it only for local steps, and a hint in plain words.
    mode_ = new QComboBox;
    mode_->setObjectName("jobTrainingMode");
    mode_->addItems(trainingModeNames());
    mode_->setToolTip(tr("How contributors share the work (docs/training.md, \"Choosing a mode\")"));
    lanes_ = new QSpinBox;
    lanes_->setObjectName("jobLanes");
    lanes_->setRange(1, 4096);
    lanes_->setValue(4);
    lanes_->setToolTip(
        tr("Work units per round, each taking its inner steps on its own; fewer contributors "
           "run them in turn and the result is the same"));
    innerSteps_ = new QSpinBox;
    innerSteps_->setObjectName("jobInnerSteps");
    innerSteps_->setRange(1, 100000);
    innerSteps_->setValue(8);
    innerSteps_->setToolTip(tr("Optimizer steps a lane takes before its contributor sends one update (H)"));
    innerBatch_ = new QSpinBox;
    innerBatch_->setObjectName("jobInnerBatch");
    innerBatch_->setRange(1, 65536);
    innerBatch_->setSingleStep(32);
    innerBatch_->setValue(128);
    innerBatch_->setSuffix(tr(" samples"));
    staleness_ = new QComboBox;
    staleness_->setObjectName("jobStaleness");
    staleness_->addItems({tr("waits for the round before (staleness 0)"),
                          tr("starts at once, from weights one round old (staleness 1)")});
    localBox_ = new QWidget;
    // Two lines: on one, the row is wider than a 1280-pixel screen leaves the page.
    auto* localLines = new QVBoxLayout(localBox_);
    localLines->setContentsMargins(0, 0, 0, 0);
    auto* localRow = new QHBoxLayout;
    localRow->addWidget(labelled(tr("l&anes"), lanes_));
    localRow->addWidget(labelled(tr("× &inner steps"), innerSteps_));
    localRow->addWidget(labelled(tr("of inne&r batch"), innerBatch_));
    localRow->addStretch();
    localLines->addLayout(localRow);
    auto* roundRow = new QHBoxLayout;
    roundRow->addWidget(labelled(tr("ne&xt round:"), staleness_));
    roundRow->addStretch();
    localLines->addLayout(roundRow);
    auto* modeRow = new QVBoxLayout;
    modeRow->addWidget(mode_, 0, Qt::AlignLeft);
    modeRow->addWidget(localBox_);
    modeHint_ = new QLabel;
    modeHint_->setObjectName("jobTrainingModeHint");
    modeHint_->setWordWrap(true);
    modeHint_->setStyleSheet("color: #555");
    modeRow->addWidget(modeHint_);
    auto* modeLabel = new QLabel(tr("Trainin&g mode:"));
    modeLabel->setBuddy(mode_);
    form->addRow(modeLabel, modeRow);
    modeProblem_ = problemLabel("trainingModeProblem");
    form->addRow(modeProblem_);
    updates_ = new QComboBox;
    updates_->setObjectName("jobUpdateSize");
    updates_->addItems(updateSizeNames());
    updates_->setItemData(int(UpdateSize::Full),
                          tr("Contributors send their updates exactly as computed. The most upload."), Qt::ToolTipRole);
    updates_->setItemData(int(UpdateSize::Half), tr("Half the upload; each value keeps about 3 significant digits."),
                          Qt::ToolTipRole);
    updates_->setItemData(int(UpdateSize::Quarter),
                          tr("A quarter of the upload, rounded so that nothing is lost on average; with local "
                             "steps the model trained as well as with full updates in our measurements. For "
                             "contributors on slow uplinks."),
                          Qt::ToolTipRole);
    updates_->setToolTip(tr("How many bytes contributors upload per update (docs/training.md, \"8-bit updates\")"));
    form->addRow(tr("Update si&ze:"), updates_);
    weightsDown_ = new QComboBox;
    weightsDown_->setObjectName("jobWeightsDown");
    weightsDown_->addItems(weightsDownNames());
    weightsDown_->setItemData(int(WeightsDown::Whole),
                              tr("Contributors download each new version of the model whole. The most download."),
                              Qt::ToolTipRole);
    weightsDown_->setItemData(int(WeightsDown::Int8Deltas),
                              tr("Contributors download each new version as an 8-bit change to the one they hold: "
                                 "about a quarter of the download. The coordinator keeps what the rounding left out "
                                 "for the next version, so the model does not drift; contributors compute on the "
                                 "rebuilt weights. For contributors on slow links, with local steps."),
                              Qt::ToolTipRole);
    weightsDown_->setToolTip(
        tr("How the model's weights reach contributors (docs/training.md, \"8-bit weights down\")"));
    form->addRow(tr("Weights down &format:"), weightsDown_);
    budget_ = new app::CreditsSpinBox;
    budget_->setObjectName("jobBudget");
    budget_->setRange(0, 1e12);
    budget_->setValue(10);
    budget_->setSuffix(tr(" credits"));
    balance_ = new QLabel;
    balance_->setObjectName("jobBalance");
    auto* budgetRow = new QHBoxLayout;
    budgetRow->addWidget(budget_);
    budgetRow->addWidget(balance_, 1);
    auto* budgetLabel = new QLabel(tr("B&udget:"));
    budgetLabel->setBuddy(budget_);
    form->addRow(budgetLabel, budgetRow);
    budgetProblem_ = problemLabel("budgetProblem");
    form->addRow(budgetProblem_);

    estimate_ = new QLabel;
    estimate_->setObjectName("jobEstimate");
    estimate_->setWordWrap(true);
    submit_ = new QPushButton(tr("Su&bmit the job"));
    submit_->setObjectName("submitJob");
    progress_ = new QProgressBar;
    progress_->hide();
    status_ = new QLabel;
    status_->setObjectName("submitStatus");
    status_->setWordWrap(true);

    // The form scrolls where the screen is too short for it (a laptop's 800 pixels with the local
    // steps' hint shown) rather than clipping its last rows.
    auto* content = new QWidget;
    auto* scroll = new QScrollArea;
    scroll->setObjectName("submitScroll");
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidgetResizable(true);
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);
    auto* layout = new QVBoxLayout(content);
    auto* title = new QLabel(tr("<h2>New training job</h2>"));
    layout->addWidget(title);
    layout->addLayout(form);
    layout->addWidget(estimate_);
    auto* actions = new QHBoxLayout;
    actions->addWidget(submit_);
    actions->addWidget(progress_, 1);
    layout->addLayout(actions);
    layout->addWidget(status_);
    layout->addStretch();
    scroll->setWidget(content);
    app::keepWheelForScrolling(*scroll);

    auto refillDatasets = [this] {
        const QString chosen = dataset_->currentData().toString();
        QSignalBlocker block(dataset_);
        dataset_->clear();
        for (const auto& d : library_.datasets())
            dataset_->addItem(QString::fromStdString(d.manifest.name), d.manifest.id);
        const int again = dataset_->findData(chosen);
        dataset_->setCurrentIndex(again >= 0 ? again : 0);
        refresh();
    };
    connect(&library_, &DatasetLibrary::datasetsChanged, this, refillDatasets);
    refillDatasets();
    for (auto* spin : {batch_, epochs_, maxSteps_, evalEvery_, checkpointEvery_, priority_, decayEvery_, warmup_,
                       lanes_, innerSteps_, innerBatch_})
        connect(spin, &QSpinBox::valueChanged, this, &SubmitPage::refresh);
    for (auto* spin : {lr_, decayFactor_, minLr_})
        connect(spin, &QDoubleSpinBox::valueChanged, this, &SubmitPage::refresh);
    connect(schedule_, &QComboBox::currentIndexChanged, this, &SubmitPage::refresh);
    for (auto* combo : {checking_, mode_, staleness_, updates_, weightsDown_})
        connect(combo, &QComboBox::currentIndexChanged, this, &SubmitPage::refresh);
    connect(budget_, &QDoubleSpinBox::valueChanged, this, &SubmitPage::refresh);
    connect(optimizer_, &QComboBox::currentIndexChanged, this, &SubmitPage::refresh);
    connect(dataset_, &QComboBox::currentIndexChanged, this, &SubmitPage::refresh);
    connect(&document_, &ModelDocument::changed, this, &SubmitPage::refresh);
    connect(&jobs_, &JobsService::balanceChanged, this, &SubmitPage::refresh);
    connect(&connection_, &ConnectionService::stateChanged, this, &SubmitPage::refresh);
    connect(submit_, &QPushButton::clicked, this, &SubmitPage::submit);
    connect(&jobs_, &JobsService::submitStage, this, [this](const QString& stage, int done, int total) {
        status_->setText(stage);
        progress_->setRange(0, total);
        progress_->setValue(done);
    });
    connect(&jobs_, &JobsService::submitted, this, [this](const QString& id) {
        progress_->hide();
        status_->setText(tr("Job %1 submitted.").arg(id));
        refresh();
        emit submitted(id);
    });
    connect(&jobs_, &JobsService::submitFailed, this, [this](const QString& message) {
        progress_->hide();
        status_->setText(tr("⚠ Not submitted: %1").arg(message));
        refresh();
    });
    refresh();
}

int SubmitPage::datasetRow() const {
    const QString id = dataset_->currentData().toString();
    for (std::size_t i = 0; i < library_.datasets().size(); ++i)
        if (library_.datasets()[i].manifest.id == id) return int(i);
    return -1;
}

JobSettings SubmitPage::settings() const {
    JobSettings s;
    s.name = name_->text().trimmed().isEmpty() ? document_.name() : name_->text().trimmed();
    s.optimizer = OptimizerChoice(optimizer_->currentIndex());
    s.learningRate = lr_->value();
    s.schedule = ScheduleChoice(schedule_->currentIndex());
    s.decayEvery = decayEvery_->value();
    s.decayFactor = decayFactor_->value();
    s.warmupSteps = warmup_->value();
    s.minLearningRate = minLr_->value();
    s.batch = batch_->value();
    s.epochs = epochs_->value();
    s.maxSteps = maxSteps_->value();
    s.evalEverySteps = evalEvery_->value();
    s.checkpointEverySteps = checkpointEvery_->value();
    s.priority = priority_->value();
    s.checking = ResultChecking(checking_->currentIndex());
    s.mode = TrainingMode(mode_->currentIndex());
    s.lanes = lanes_->value();
    s.innerSteps = innerSteps_->value();
    s.innerBatch = innerBatch_->value();
    s.staleness = staleness_->currentIndex();
    s.updates = UpdateSize(updates_->currentIndex());
    s.weightsDown = WeightsDown(weightsDown_->currentIndex());
    s.budgetMicroCredits = std::int64_t(std::llround(budget_->value() * double(requester::kMicroCreditsPerCredit)));
    return s;
}

void SubmitPage::refresh() {
    const std::int64_t balance = jobs_.balance();
    const auto choice = ScheduleChoice(schedule_->currentIndex());
    decayBox_->setVisible(choice == ScheduleChoice::StepDecay);
    warmupBox_->setVisible(choice == ScheduleChoice::WarmupCosine);
    minLrBox_->setVisible(choice == ScheduleChoice::Cosine || choice == ScheduleChoice::WarmupCosine);
    const bool local = TrainingMode(mode_->currentIndex()) == TrainingMode::LocalSteps;
    localBox_->setVisible(local);
    // With local steps a step of the model is a round: lanes x inner steps x inner batch samples.
    batch_->setEnabled(!local);
    modeHint_->setText(trainingModeHint(local, innerSteps_->value(), staleness_->currentIndex()));
    balance_->setText(balance >= 0 ? tr("your balance: %1 credits").arg(app::creditsAmount(balance))
                                   : tr("your balance: known once connected"));
    const ModelCheck& check = document_.check();
    model_->setText(check.ok() ? tr("%1 — %2 parameters (edit it on the Models page)")
                                     .arg(document_.name(), compactNumber(double(check.parameters)))
                               : tr("⚠ %1: %2 (fix it on the Models page)").arg(document_.name(), check.problem));
    const int row = datasetRow();
    bool ready = check.ok() && document_.jsonProblem().isEmpty() && row >= 0 && !jobs_.isSubmitting() &&
                 connection_.client() != nullptr;
    if (row < 0) {
        estimate_->setText(tr("Import a dataset on the Datasets page first."));
        submit_->setEnabled(false);
        return;
    }
    const auto& manifest = library_.datasets()[std::size_t(row)].manifest;
    const JobSettings s = settings();
    const SettingsProblems problems = checkSettings(s, manifest, balance);
    showProblem(lrProblem_, problems.learningRate);
    showProblem(batchProblem_, problems.batch);
    showProblem(budgetProblem_, problems.budget);
    showProblem(scheduleProblem_, problems.schedule);
    showProblem(modeProblem_, problems.mode);
    ready = ready && !problems.any();
    if (check.ok() && jobs_.pricePerTeraflop() <= 0) {
        estimate_->setText(jobs_.pricePerTeraflop() < 0
                               ? tr("The estimate needs the coordinator's price, which it gives once connected.")
                               : tr("This coordinator does not publish its price, so the cost cannot be "
                                    "estimated; the budget is the most the job may spend."));
    } else if (check.ok()) {
        const ledger::CreditRate rate{jobs_.pricePerTeraflop()};
        const CostEstimate e = estimateCost(3 * check.forwardFlops, manifest.train.samples, s.epochs,
                                            int(samplesPerStep(s)), s.maxSteps, rate);
        estimate_->setText(tr("<b>Estimated cost: %1 credits</b> for %L2 steps over %L3 samples (%4 FLOPs of "
                              "training at the coordinator's price of %5 %8 per 10<sup>12</sup> FLOPs); "
                              "<b>your balance: %7 credits</b>.%6")
                               .arg(app::creditsAmount(e.microCredits))
                               .arg(e.steps)
                               .arg(e.samples)
                               .arg(compactNumber(e.flops), app::creditsAmount(rate.perTeraflop))
                               .arg(e.microCredits > s.budgetMicroCredits
                                        ? tr(" The budget covers only part of it: the job stops when it is spent.")
                                        : QString())
                               .arg(balance >= 0 ? app::creditsAmount(balance) : tr("not known yet"))
                               .arg(rate.perTeraflop == ledger::kMicroCreditsPerCredit ? tr("credit") : tr("credits")));
    } else {
        estimate_->setText(tr("The estimate needs a valid model."));
    }
    submit_->setEnabled(ready);
    submit_->setToolTip(connection_.client() ? QString() : tr("Not connected to a coordinator"));
}

void SubmitPage::submit() {
    const int row = datasetRow();
    if (row < 0 || !document_.check().ok()) return;
    SubmitRequest r;
    r.dataset = library_.datasets()[std::size_t(row)];
    r.specName = document_.name();
    r.specText = document_.text();
    try {
        r.job = makeCreateJob(settings(), r.dataset.manifest);
        r.config = describeJob(settings(), r.dataset.manifest, document_.name());
    } catch (const std::exception& e) {
        status_->setText(QString::fromUtf8(e.what()));
        return;
    }
    progress_->setRange(0, 0);
    progress_->show();
    submit_->setEnabled(false);
    jobs_.submit(r);
}

}  // namespace raven::console
