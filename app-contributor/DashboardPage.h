#pragma once
// The dashboard: the work in progress, what this machine contributed today and in all, the credits
// per day over 30 days (a bar chart), the units it computed, the connection and the log.
// It only shows: the figures come from ContributorApp's models (the ledger's, over the protocol).
#include <QWidget>

class QLabel;
class QLineEdit;
class QListView;
class QTableView;

class QChartView;
class QBarSet;
class QBarSeries;
class QBarCategoryAxis;
class QValueAxis;

namespace raven::contributor {

class ContributorApp;
class LogFilter;

class DashboardPage : public QWidget {
    Q_OBJECT
public:
    explicit DashboardPage(ContributorApp& app, QWidget* parent = nullptr);

    // The chart's bar values (credits per day, oldest first), for tests.
    QList<double> chartValues() const;

private:
    void refreshWork();
    void refreshTotals();
    void refreshChart();
    void refreshConnection();

    ContributorApp& app_;
    QLabel* work_ = nullptr;
    QLabel* today_ = nullptr;
    QLabel* allTime_ = nullptr;
    QLabel* asOf_ = nullptr;
    QLabel* connection_ = nullptr;
    QChartView* chartView_ = nullptr;
    QBarSet* bars_ = nullptr;
    QBarCategoryAxis* days_ = nullptr;
    QValueAxis* credits_ = nullptr;
    QTableView* units_ = nullptr;
    QLineEdit* logFilterEdit_ = nullptr;
    QListView* log_ = nullptr;
    LogFilter* logFilter_ = nullptr;
};

}  // namespace raven::contributor
