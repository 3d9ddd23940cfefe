#include "DatasetListModel.h"

#include "DatasetLibrary.h"
#include "nn/Architecture.h"

namespace raven::console {

DatasetListModel::DatasetListModel(DatasetLibrary& library, QObject* parent)
    : QAbstractTableModel(parent), library_(library) {
    connect(&library_, &DatasetLibrary::datasetsChanged, this, [this] {
        beginResetModel();
        endResetModel();
    });
}

int DatasetListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(library_.datasets().size());
}
int DatasetListModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant DatasetListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const auto& m = library_.datasets()[std::size_t(index.row())].manifest;
    if (role == IdRole) return m.id;
    if (role == Qt::ToolTipRole) return library_.datasets()[std::size_t(index.row())].path;
    if (role == Qt::TextAlignmentRole && index.column() != Name)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
        case Name:
            return QString::fromStdString(m.name);
        case Samples:
            return tr("%L1 train, %L2 test").arg(m.train.samples).arg(m.test.samples);
        case Shape:
            return QString::fromStdString(nn::shapeText(m.featureShape));
        case Classes:
            return qint64(m.classes.size());
        case Shards:
            return qint64(m.train.shards.size() + m.test.shards.size());
        default:
            return {};
    }
}

QVariant DatasetListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {QT_TR_NOOP("Dataset"), QT_TR_NOOP("Samples"), QT_TR_NOOP("Sample shape"),
                                  QT_TR_NOOP("Classes"), QT_TR_NOOP("Shards")};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

}  // namespace raven::console
