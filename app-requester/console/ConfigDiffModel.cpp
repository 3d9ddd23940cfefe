#include "ConfigDiffModel.h"

#include <QColor>
#include <QFont>
#include <algorithm>

namespace raven::console {

ConfigDiffModel::ConfigDiffModel(QObject* parent) : QAbstractTableModel(parent) {}

void ConfigDiffModel::setJobs(const QStringList& titles, const std::vector<QJsonObject>& configs) {
    beginResetModel();
    titles_ = titles;
    configs_ = configs;
    keys_.clear();
    for (const auto& c : configs_)
        for (const QString& k : c.keys())
            if (!keys_.contains(k)) keys_ << k;
    std::sort(keys_.begin(), keys_.end());
    endResetModel();
}

int ConfigDiffModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(keys_.size()); }
int ConfigDiffModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(configs_.size());
}

bool ConfigDiffModel::differs(int row) const {
    const QString& key = keys_[row];
    for (const auto& c : configs_)
        if (c.value(key) != configs_.front().value(key)) return true;
    return false;
}

QVariant ConfigDiffModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const QJsonObject& config = configs_[std::size_t(index.column())];
    switch (role) {
        case Qt::DisplayRole: {
            if (config.isEmpty()) return tr("(not submitted from here)");
            const QJsonValue v = config.value(keys_[index.row()]);
            return v.isDouble() ? QString::number(v.toDouble(), 'g', 8) : v.toVariant().toString();
        }
        case DiffersRole:
            return differs(index.row());
        case Qt::FontRole: {
            QFont f;
            f.setBold(differs(index.row()));
            return f;
        }
        case Qt::BackgroundRole:
            return differs(index.row()) ? QVariant(QColor(255, 243, 205)) : QVariant();
        default:
            return {};
    }
}

QVariant ConfigDiffModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (role != Qt::DisplayRole) return {};
    if (orientation == Qt::Horizontal) return section >= 0 && section < titles_.size() ? titles_[section] : QVariant();
    return section >= 0 && section < keys_.size() ? keys_[section] : QVariant();
}

}  // namespace raven::console
