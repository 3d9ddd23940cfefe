#pragma once
// The item models under the dashboard: what the widgets show, in the form they show it.
//
//   CreditsModel credits(ledgerStats);        // per-day credits from the coordinator's ledger
//   RecentUnitsModel units(service);          // the units this app computed, newest first
//   LogModel log(service);                    // what the engine said, with a filter proxy on top
//
// No figure here is computed from local guesses: credits and unit counts come from the ledger
// (LedgerStats), per-unit credits from each unit's ResultAck.
#include <QAbstractTableModel>
#include <QDate>
#include <QDateTime>
#include <QSortFilterProxyModel>

#include <deque>

namespace raven::contributor {

class LedgerStats;
class ContributionService;

// Credits earned per day over the last 30 days (oldest first), and the totals, from the ledger.
class CreditsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Day, WorkUnits, Credits, ColumnCount };
    explicit CreditsModel(LedgerStats& stats, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    struct Totals {
        bool known = false;    // false until the ledger answered once
        bool offline = false;  // the figures are the last ones fetched, not fresh
        QDateTime fetchedAt;
        qint64 unitsAccepted = 0, unitsRejected = 0, unitsDuplicate = 0;
        double flops = 0;
        qint64 microCredits = 0;         // all time, confirmed: what the contributor may spend
        qint64 pendingMicroCredits = 0;  // accepted, waiting for the coordinator's verification
        qint64 revokedMicroCredits = 0;  // withheld: results that failed the coordinator's checks
        qint64 todayMicroCredits = 0;    // today (UTC, as the ledger counts days)
        qint64 todayUnits = 0;
    };
    const Totals& totals() const { return totals_; }
    QDate day(int row) const { return days_.at(static_cast<std::size_t>(row)).day; }
    double credits(int row) const { return days_.at(static_cast<std::size_t>(row)).microCredits / 1e6; }

    static QString creditsText(qint64 microCredits);  // "1,012.3456 credits": CreditsText.h
    static QString flopsText(double flops);           // "3.2 TFLOP"

signals:
    void totalsChanged();

private:
    void reload();
    struct DayRow {
        QDate day;
        qint64 units = 0, microCredits = 0;
    };
    LedgerStats& stats_;
    std::vector<DayRow> days_;
    Totals totals_;
};

// The units this app computed since it started, newest first (at most 200).
class RecentUnitsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Finished, Unit, Job, Outcome, Samples, Seconds, SamplesPerSecond, Credits, ColumnCount };
    explicit RecentUnitsModel(ContributionService& service, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    // Credits per hour over the units finished in the last hour (from their ResultAcks).
    double creditsPerHour() const;
    // Samples per second of the last unit (0 before the first).
    double lastSamplesPerSecond() const;

private:
    struct Row {
        QDateTime at;
        QString unit, job;
        int status = 0;
        qint64 samples = 0;
        double seconds = 0;
        qint64 microCredits = 0;
    };
    std::deque<Row> rows_;
};

// What the engine said, time-stamped; LogFilter on top shows the lines containing a text.
class LogModel : public QAbstractListModel {
    Q_OBJECT
public:
    explicit LogModel(QObject* parent = nullptr);
    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    void append(const QString& text);
    QStringList lines() const;

private:
    std::deque<QString> lines_;
};

class LogFilter : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit LogFilter(LogModel& log, QObject* parent = nullptr);
    void setText(const QString& text);
};

}  // namespace raven::contributor
