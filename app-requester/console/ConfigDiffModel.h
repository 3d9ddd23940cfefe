#pragma once
// ConfigDiffModel: the settings of the jobs being compared side by side, one row per setting, one
// column per job; a row whose values differ is bold and tinted, so the reason two curves differ is
// found at a glance.
#include <QAbstractTableModel>
#include <QJsonObject>
#include <QStringList>
#include <vector>

namespace raven::console {

class ConfigDiffModel : public QAbstractTableModel {
    Q_OBJECT
public:
    static constexpr int DiffersRole = Qt::UserRole + 1;  // bool: the row's values are not all equal

    explicit ConfigDiffModel(QObject* parent = nullptr);
    // `titles[i]` heads the column of `configs[i]` (describeJob); an empty config: "not known here".
    void setJobs(const QStringList& titles, const std::vector<QJsonObject>& configs);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    bool differs(int row) const;
    QStringList titles_;
    std::vector<QJsonObject> configs_;
    QStringList keys_;  // the union of the settings, sorted
};

}  // namespace raven::console
