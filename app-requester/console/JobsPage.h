#pragma once
// JobsPage: the requester's jobs (state, progress, spend) with pause, resume and cancel (cancel
// asks first: it ends the job for good), and the way into a job's own pages.
#include <QWidget>

class QLabel;
class QPushButton;
class QTableView;

namespace raven::console {

class JobListModel;
class JobsService;

class JobsPage : public QWidget {
    Q_OBJECT
public:
    explicit JobsPage(JobsService& jobs, QWidget* parent = nullptr);
    QString currentJob() const;
    void selectJob(const QString& id);

signals:
    // The person opened a job (double click, Enter or Watch).
    void openJob(const QString& jobId);

private:
    void updateButtons();
    void showHintWhenEmpty();
    void act(int action);

    JobsService& jobs_;
    JobListModel* model_;
    QTableView* table_;
    QPushButton* watch_;
    QPushButton* pause_;
    QPushButton* resume_;
    QPushButton* cancel_;
    QLabel* problem_;
    QLabel* emptyHint_;  // in the table's place while there is no job to list
};

}  // namespace raven::console
