#include "ConfusionMatrixModel.h"

#include <QColor>
#include <numeric>

namespace raven::console {

ConfusionMatrixModel::ConfusionMatrixModel(QObject* parent) : QAbstractTableModel(parent) {}

void ConfusionMatrixModel::setEvaluation(const Evaluation& evaluation) {
    beginResetModel();
    evaluation_ = evaluation;
    endResetModel();
}

int ConfusionMatrixModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(evaluation_.confusion.size());
}
int ConfusionMatrixModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(evaluation_.confusion.size());
}

QVariant ConfusionMatrixModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const auto r = std::size_t(index.row()), c = std::size_t(index.column());
    const std::int64_t n = evaluation_.confusion[r][c];
    switch (role) {
        case Qt::DisplayRole:
            return qint64(n);
        case Qt::TextAlignmentRole:
            return QVariant::fromValue(Qt::AlignCenter);
        case Qt::ToolTipRole:
            return tr("%n test sample(s) of \"%1\" predicted as \"%2\"", nullptr, int(n))
                .arg(evaluation_.classes.value(index.row()), evaluation_.classes.value(index.column()));
        case Qt::BackgroundRole: {
            const auto& row = evaluation_.confusion[r];
            const std::int64_t total = std::accumulate(row.begin(), row.end(), std::int64_t(0));
            const double share = total ? double(n) / double(total) : 0.0;
            const int fade = 255 - int(180 * share);
            return r == c ? QColor(fade, 255, fade) : QColor(255, fade, fade);
        }
        case SamplesRole: {
            QList<qint64> samples;
            for (auto s : evaluation_.cellSamples[r][c]) samples << qint64(s);
            return QVariant::fromValue(samples);
        }
        default:
            return {};
    }
}

QVariant ConfusionMatrixModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (role != Qt::DisplayRole || section < 0 || section >= evaluation_.classes.size()) return {};
    const QString name = evaluation_.classes[section];
    return orientation == Qt::Vertical
               ? tr("%1 (recall %2%)").arg(name).arg(100 * evaluation_.recall(section), 0, 'f', 1)
               : name;
}

}  // namespace raven::console
