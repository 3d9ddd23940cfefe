#pragma once
// JobContributorsModel: who computed the watched job, as a table over JobWatcher's figures from the
// coordinator's ledger: the contributor (display name, its id in the tooltip), accepted work units,
// samples trained, samples per second over the time it worked on the job (first lease to last
// accepted result), its share of the job's work (FLOPs), credits earned, rejected results.
// Rows keep the coordinator's order (most work first); DisplayRole is text, SortRole the number.
#include <QAbstractTableModel>

#include "protocol/raven.pb.h"

namespace raven::console {

class JobWatcher;

class JobContributorsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Contributor, Units, Samples, SamplesPerSecond, Share, Credits, Rejected, ColumnCount };
    static constexpr int SortRole = Qt::UserRole + 1;  // the column's number (Contributor: the name)
    static constexpr int IdRole = Qt::UserRole + 2;    // the contributor's id

    explicit JobContributorsModel(JobWatcher& watcher, QObject* parent = nullptr);
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // The figures of one row as numbers (also what SortRole gives).
    static double samplesPerSecond(const wire::JobContributor& c);
    // One sentence under the table: "3 contributors computed 120 work units (4,096 samples)".
    QString summary() const;

private:
    void contributorsChanged();
    JobWatcher& watcher_;
    wire::JobContributors rows_;
    double totalFlops_ = 0;
};

}  // namespace raven::console
