#include "SamplePreviewModel.h"

#include <QPixmap>
#include <algorithm>

namespace raven::console {

SamplePreviewModel::SamplePreviewModel(QObject* parent) : QAbstractTableModel(parent) {}

void SamplePreviewModel::setPreview(const DatasetPreview& preview) {
    beginResetModel();
    preview_ = preview;
    empty_ = preview.kind == PreviewKind::Text;
    endResetModel();
}

void SamplePreviewModel::clear() {
    beginResetModel();
    preview_ = {};
    empty_ = true;
    endResetModel();
}

int SamplePreviewModel::featureColumns() const {
    if (preview_.rows.empty()) return 0;
    return std::min(int(preview_.rows.front().size()), kMaxFeatureColumns);
}

int SamplePreviewModel::rowCount(const QModelIndex& parent) const {
    if (parent.isValid() || empty_) return 0;
    return int(preview_.kind == PreviewKind::Images ? preview_.images.size() : preview_.rows.size());
}

int SamplePreviewModel::columnCount(const QModelIndex& parent) const {
    if (parent.isValid() || empty_) return 0;
    return preview_.kind == PreviewKind::Images ? 1 : featureColumns() + 1;
}

QVariant SamplePreviewModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const auto row = std::size_t(index.row());
    const QString label = row < preview_.labels.size() ? preview_.className(preview_.labels[row]) : QString();
    if (preview_.kind == PreviewKind::Images) {
        if (role == Qt::DisplayRole || role == Qt::ToolTipRole) return label;
        if (role == Qt::DecorationRole)
            return QPixmap::fromImage(preview_.images[row].scaled(56, 56, Qt::KeepAspectRatio, Qt::FastTransformation));
        return {};
    }
    if (role != Qt::DisplayRole) return {};
    if (index.column() == featureColumns()) return label;
    return double(preview_.rows[row][std::size_t(index.column())]);
}

QVariant SamplePreviewModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (role != Qt::DisplayRole) return {};
    if (orientation == Qt::Vertical) return section + 1;
    if (preview_.kind == PreviewKind::Images) return tr("Sample");
    return section == featureColumns() ? tr("Label") : tr("x%1").arg(section);
}

}  // namespace raven::console
