#include "JobsPage.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

#include "JobListModel.h"
#include "JobsService.h"
#include "requester/Credits.h"

namespace raven::console {

JobsPage::JobsPage(JobsService& jobs, QWidget* parent) : QWidget(parent), jobs_(jobs) {
    model_ = new JobListModel(jobs_, this);
    table_ = new QTableView;
    table_->setObjectName("jobList");
    table_->setModel(model_);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->hide();
    watch_ = new QPushButton(tr("&Watch"));
    watch_->setObjectName("watchJob");
    pause_ = new QPushButton(tr("&Pause"));
    pause_->setObjectName("pauseJob");
    resume_ = new QPushButton(tr("&Resume"));
    resume_->setObjectName("resumeJob");
    cancel_ = new QPushButton(tr("&Cancel job…"));
    cancel_->setObjectName("cancelJob");
    problem_ = new QLabel;
    problem_->setObjectName("jobsProblem");
    problem_->setWordWrap(true);
    auto* buttons = new QHBoxLayout;
    for (auto* b : {watch_, pause_, resume_, cancel_}) buttons->addWidget(b);
    buttons->addWidget(problem_, 1);
    emptyHint_ = new QLabel(
        tr("No jobs yet. Jobs you submit on the New job page (Ctrl+3) appear here with their state, progress "
           "and spend, the ones submitted with <tt>raven submit</tt> under your key too. The list comes from "
           "the coordinator you are connected to (File › Connect to a coordinator, Ctrl+K)."));
    emptyHint_->setObjectName("jobsEmptyHint");
    emptyHint_->setWordWrap(true);
    emptyHint_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(tr("<h2>Your jobs</h2>")));
    layout->addLayout(buttons);
    layout->addWidget(table_, 1);
    layout->addWidget(emptyHint_, 1);

    connect(watch_, &QPushButton::clicked, this, [this] {
        if (!currentJob().isEmpty()) emit openJob(currentJob());
    });
    connect(table_, &QTableView::activated, this,
            [this](const QModelIndex& i) { emit openJob(i.data(JobListModel::IdRole).toString()); });
    connect(pause_, &QPushButton::clicked, this, [this] { act(wire::JOB_ACTION_PAUSE); });
    connect(resume_, &QPushButton::clicked, this, [this] { act(wire::JOB_ACTION_RESUME); });
    connect(cancel_, &QPushButton::clicked, this, [this] { act(wire::JOB_ACTION_CANCEL); });
    connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &JobsPage::updateButtons);
    connect(model_, &QAbstractItemModel::dataChanged, this, &JobsPage::updateButtons);
    connect(model_, &QAbstractItemModel::modelReset, this, &JobsPage::updateButtons);
    connect(&jobs_, &JobsService::controlFailed, problem_, &QLabel::setText);
    for (auto rowsChanged : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(model_, rowsChanged, this, &JobsPage::showHintWhenEmpty);
    connect(model_, &QAbstractItemModel::modelReset, this, &JobsPage::showHintWhenEmpty);
    updateButtons();
    showHintWhenEmpty();
}

QString JobsPage::currentJob() const {
    const QModelIndex i = table_->currentIndex();
    return i.isValid() ? model_->index(i.row(), 0).data(JobListModel::IdRole).toString() : QString();
}

void JobsPage::selectJob(const QString& id) {
    for (int r = 0; r < model_->rowCount(); ++r)
        if (model_->index(r, 0).data(JobListModel::IdRole).toString() == id)
            table_->setCurrentIndex(model_->index(r, 0));
}

void JobsPage::updateButtons() {
    const QModelIndex current = table_->currentIndex();
    const QModelIndex row = current.isValid() ? model_->index(current.row(), 0) : QModelIndex();
    watch_->setEnabled(row.isValid());
    pause_->setEnabled(row.data(JobListModel::CanPauseRole).toBool());
    resume_->setEnabled(row.data(JobListModel::CanResumeRole).toBool());
    cancel_->setEnabled(row.data(JobListModel::CanCancelRole).toBool());
}

void JobsPage::showHintWhenEmpty() {
    const bool empty = model_->rowCount() == 0;
    table_->setVisible(!empty);
    emptyHint_->setVisible(empty);
}

void JobsPage::act(int action) {
    const QString id = currentJob();
    const wire::JobInfo* job = jobs_.job(id);
    if (!job) return;
    problem_->clear();
    if (action == wire::JOB_ACTION_CANCEL) {
        const auto answer = QMessageBox::question(
            this, tr("Cancel job %1?").arg(id),
            tr("Cancelling ends job %1 \"%2\" for good at step %3 of %4: it cannot be resumed. What is left of "
               "its budget returns to your balance.")
                .arg(id, QString::fromStdString(job->name()))
                .arg(job->step())
                .arg(job->total_steps()),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes) return;
    }
    jobs_.control(id, wire::JobAction(action));
}

}  // namespace raven::console
