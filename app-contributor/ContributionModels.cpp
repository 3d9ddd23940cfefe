#include "ContributionModels.h"

#include "ContributionService.h"
#include "CreditsText.h"
#include "LedgerStats.h"

namespace raven::contributor {

namespace {
constexpr std::size_t kMaxUnits = 200;
constexpr std::size_t kMaxLogLines = 2000;
}  // namespace

// --- CreditsModel -----------------------------------------------------------------------------------

CreditsModel::CreditsModel(LedgerStats& stats, QObject* parent) : QAbstractTableModel(parent), stats_(stats) {
    connect(&stats_, &LedgerStats::updated, this, &CreditsModel::reload);
    connect(&stats_, &LedgerStats::connectionChanged, this, [this] {
        const bool offline = stats_.connection() != LedgerStats::Connection::Online;
        if (offline == totals_.offline) return;
        totals_.offline = offline;
        emit totalsChanged();
    });
    reload();
}

QString CreditsModel::creditsText(qint64 microCredits) {
    return QObject::tr("%1 credits").arg(app::creditsAmount(microCredits));
}

QString CreditsModel::flopsText(double flops) {
    const char* units[] = {"FLOP", "kFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP", "EFLOP"};
    int u = 0;
    while (flops >= 1000.0 && u < 6) {
        flops /= 1000.0;
        ++u;
    }
    return QStringLiteral("%1 %2").arg(QString::number(flops, 'f', flops < 10 ? 2 : 1), QLatin1String(units[u]));
}

void CreditsModel::reload() {
    beginResetModel();
    days_.clear();
    totals_ = Totals();
    totals_.offline = stats_.connection() != LedgerStats::Connection::Online;
    if (const auto& f = stats_.figures()) {
        totals_.known = true;
        totals_.fetchedAt = stats_.fetchedAt();
        totals_.unitsAccepted = static_cast<qint64>(f->work_units_accepted());
        totals_.unitsRejected = static_cast<qint64>(f->work_units_rejected());
        totals_.unitsDuplicate = static_cast<qint64>(f->work_units_duplicate());
        totals_.flops = f->flops();
        totals_.microCredits = f->micro_credits();
        totals_.pendingMicroCredits = f->pending_micro_credits();
        totals_.revokedMicroCredits = f->revoked_micro_credits();
        // The ledger lists days with movements; the chart shows every day of the span.
        const QDate today = QDateTime::currentDateTimeUtc().date();
        for (int i = 29; i >= 0; --i) days_.push_back(DayRow{today.addDays(-i)});
        for (const wire::DailyCredits& d : f->per_day()) {
            const QDate day = QDate::fromString(QString::fromStdString(d.date()), Qt::ISODate);
            for (DayRow& row : days_)
                if (row.day == day) {
                    row.units = static_cast<qint64>(d.work_units());
                    row.microCredits = d.micro_credits();
                }
            if (day == today) {
                totals_.todayMicroCredits = d.micro_credits();
                totals_.todayUnits = static_cast<qint64>(d.work_units());
            }
        }
    }
    endResetModel();
    emit totalsChanged();
}

int CreditsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(days_.size());
}
int CreditsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant CreditsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || role != Qt::DisplayRole) return {};
    const DayRow& r = days_.at(static_cast<std::size_t>(index.row()));
    switch (index.column()) {
        case Day:
            return r.day.toString(Qt::ISODate);
        case WorkUnits:
            return r.units;
        case Credits:
            return app::creditsAmount(r.microCredits);
    }
    return {};
}

QVariant CreditsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    const char* names[] = {"Day (UTC)", "Work units", "Credits"};
    return tr(names[section]);
}

// --- RecentUnitsModel -------------------------------------------------------------------------------

RecentUnitsModel::RecentUnitsModel(ContributionService& service, QObject* parent) : QAbstractTableModel(parent) {
    connect(&service, &ContributionService::unitFinished, this,
            [this](const QString& unit, const QString& job, int status, qint64 samples, double seconds,
                   qint64 microCredits) {
                beginInsertRows({}, 0, 0);
                rows_.push_front(Row{QDateTime::currentDateTime(), unit, job, status, samples, seconds, microCredits});
                endInsertRows();
                if (rows_.size() > kMaxUnits) {
                    beginRemoveRows({}, static_cast<int>(kMaxUnits), static_cast<int>(rows_.size()) - 1);
                    rows_.resize(kMaxUnits);
                    endRemoveRows();
                }
            });
}

int RecentUnitsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}
int RecentUnitsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RecentUnitsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || role != Qt::DisplayRole) return {};
    const Row& r = rows_.at(static_cast<std::size_t>(index.row()));
    switch (index.column()) {
        case Finished:
            return r.at.toString(QStringLiteral("HH:mm:ss"));
        case Unit:
            return r.unit;
        case Job:
            return r.job;
        case Outcome:
            return r.status == wire::RESULT_STATUS_ACCEPTED    ? tr("accepted")
                   : r.status == wire::RESULT_STATUS_DUPLICATE ? tr("duplicate (someone was faster)")
                                                               : tr("rejected");
        case Samples:
            return r.samples;
        case Seconds:
            return QString::number(r.seconds, 'f', 2);
        case SamplesPerSecond:
            return r.seconds > 0 ? QString::number(r.samples / r.seconds, 'f', 0) : QStringLiteral("-");
        case Credits:
            return app::creditsAmount(r.microCredits);
    }
    return {};
}

QVariant RecentUnitsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    const char* names[] = {"Finished", "Work unit", "Job", "Outcome", "Samples", "Seconds", "Samples/s", "Credits"};
    return tr(names[section]);
}

double RecentUnitsModel::creditsPerHour() const {
    const QDateTime hourAgo = QDateTime::currentDateTime().addSecs(-3600);
    qint64 micro = 0;
    QDateTime oldest;
    for (const Row& r : rows_) {
        if (r.at < hourAgo) break;
        micro += r.microCredits;
        oldest = r.at;
    }
    if (!oldest.isValid()) return 0.0;
    // Over the hour, or over the time since the first of these units when that is shorter.
    const double hours = std::max(60.0, static_cast<double>(oldest.secsTo(QDateTime::currentDateTime()))) / 3600.0;
    return micro / 1e6 / hours;
}

double RecentUnitsModel::lastSamplesPerSecond() const {
    if (rows_.empty() || rows_.front().seconds <= 0) return 0.0;
    return rows_.front().samples / rows_.front().seconds;
}

// --- LogModel ---------------------------------------------------------------------------------------

LogModel::LogModel(QObject* parent) : QAbstractListModel(parent) {}

int LogModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(lines_.size());
}

QVariant LogModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || role != Qt::DisplayRole) return {};
    return lines_.at(static_cast<std::size_t>(index.row()));
}

void LogModel::append(const QString& text) {
    const int row = static_cast<int>(lines_.size());
    beginInsertRows({}, row, row);
    lines_.push_back(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss  ")) + text);
    endInsertRows();
    if (lines_.size() > kMaxLogLines) {
        beginRemoveRows({}, 0, 0);
        lines_.pop_front();
        endRemoveRows();
    }
}

QStringList LogModel::lines() const { return QStringList(lines_.begin(), lines_.end()); }

LogFilter::LogFilter(LogModel& log, QObject* parent) : QSortFilterProxyModel(parent) {
    setSourceModel(&log);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
}

void LogFilter::setText(const QString& text) { setFilterFixedString(text); }

}  // namespace raven::contributor
