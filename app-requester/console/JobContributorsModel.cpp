#include "JobContributorsModel.h"

#include <QDateTime>
#include <QLocale>

#include "CreditsText.h"
#include "JobWatcher.h"
#include "requester/Credits.h"

namespace raven::console {

JobContributorsModel::JobContributorsModel(JobWatcher& watcher, QObject* parent)
    : QAbstractTableModel(parent), watcher_(watcher) {
    connect(&watcher_, &JobWatcher::contributorsChanged, this, &JobContributorsModel::contributorsChanged);
    contributorsChanged();
}

void JobContributorsModel::contributorsChanged() {
    const wire::JobContributors& next = watcher_.contributors();
    bool sameRows = next.contributors_size() == rows_.contributors_size();
    for (int i = 0; sameRows && i < next.contributors_size(); ++i)
        sameRows = next.contributors(i).contributor_id() == rows_.contributors(i).contributor_id();
    totalFlops_ = 0;
    for (const auto& c : next.contributors()) totalFlops_ += c.flops();
    if (!sameRows) {
        beginResetModel();
        rows_ = next;
        endResetModel();
    } else {
        rows_ = next;
        if (!rows_.contributors().empty())
            emit dataChanged(index(0, 0), index(rows_.contributors_size() - 1, ColumnCount - 1));
    }
}

int JobContributorsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : rows_.contributors_size();
}
int JobContributorsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

double JobContributorsModel::samplesPerSecond(const wire::JobContributor& c) {
    if (c.last_accepted_ms() <= c.first_leased_ms()) return 0.0;
    return double(c.samples()) / (double(c.last_accepted_ms() - c.first_leased_ms()) / 1000.0);
}

QVariant JobContributorsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const wire::JobContributor& c = rows_.contributors(index.row());
    const QString name = QString::fromStdString(c.display_name());
    const double share = totalFlops_ > 0 ? c.flops() / totalFlops_ : 0.0;
    const QLocale locale;
    if (role == IdRole) return QString::fromStdString(c.contributor_id());
    if (role == Qt::ToolTipRole)
        return tr("Contributor %1 (id %2): worked on this job from %3 to %4")
            .arg(name.isEmpty() ? tr("without a name") : name, QString::fromStdString(c.contributor_id()),
                 locale.toString(QDateTime::fromMSecsSinceEpoch(qint64(c.first_leased_ms())), QLocale::ShortFormat),
                 locale.toString(QDateTime::fromMSecsSinceEpoch(qint64(c.last_accepted_ms())), QLocale::ShortFormat));
    if (role == Qt::TextAlignmentRole)
        return index.column() == Contributor ? QVariant() : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == SortRole) {
        switch (index.column()) {
            case Contributor:
                return name;
            case Units:
                return qulonglong(c.work_units());
            case Samples:
                return qulonglong(c.samples());
            case SamplesPerSecond:
                return samplesPerSecond(c);
            case Share:
                return share;
            case Credits:
                return qlonglong(c.micro_credits());
            case Rejected:
                return qulonglong(c.results_rejected());
            default:
                return {};
        }
    }
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
        case Contributor:
            return name.isEmpty() ? tr("contributor %1").arg(QString::fromStdString(c.contributor_id())) : name;
        case Units:
            return locale.toString(qulonglong(c.work_units()));
        case Samples:
            return locale.toString(qulonglong(c.samples()));
        case SamplesPerSecond:
            return locale.toString(samplesPerSecond(c), 'f', 1);
        case Share:
            return locale.toString(100.0 * share, 'f', 1) + QStringLiteral(" %");
        case Credits:
            return app::creditsAmount(c.micro_credits(), locale);
        case Rejected:
            return locale.toString(qulonglong(c.results_rejected()));
        default:
            return {};
    }
}

QVariant JobContributorsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole)) return {};
    static const char* names[] = {QT_TR_NOOP("Contributor"), QT_TR_NOOP("Units"), QT_TR_NOOP("Samples"),
                                  QT_TR_NOOP("Samples/s"),   QT_TR_NOOP("Share"), QT_TR_NOOP("Credits"),
                                  QT_TR_NOOP("Rejected")};
    static const char* tips[] = {QT_TR_NOOP("Its display name (its id in each row's tooltip)"),
                                 QT_TR_NOOP("Work units of this job it computed and the coordinator accepted"),
                                 QT_TR_NOOP("Training samples in those units"),
                                 QT_TR_NOOP("Samples per second from its first lease to its last accepted result"),
                                 QT_TR_NOOP("Its part of the job's work (FLOPs)"),
                                 QT_TR_NOOP("Credits it earned from this job"),
                                 QT_TR_NOOP("Its results of this job that failed validation")};
    if (section < 0 || section >= ColumnCount) return {};
    if (role == Qt::ToolTipRole) return tr(tips[section]);
    return tr(names[section]);
}

QString JobContributorsModel::summary() const {
    if (rows_.contributors().empty()) return tr("No contributor has delivered work for this job yet.");
    std::uint64_t units = 0, samples = 0;
    std::int64_t credits = 0;
    for (const auto& c : rows_.contributors()) {
        units += c.work_units();
        samples += c.samples();
        credits += c.micro_credits();
    }
    const QLocale locale;
    const QString who =
        rows_.contributors_size() == 1 ? tr("1 contributor") : tr("%1 contributors").arg(rows_.contributors_size());
    return tr("%1 computed %2 work units (%3 samples) and earned %4 credits.")
        .arg(who, locale.toString(qulonglong(units)), locale.toString(qulonglong(samples)),
             app::creditsAmount(credits));
}

}  // namespace raven::console
