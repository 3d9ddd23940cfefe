#pragma once
// ConfusionMatrixModel: an Evaluation's confusion matrix as a table, true class down, predicted
// class across; a cell's shade grows with its share of its row, the diagonal green, mistakes red.
// SamplesRole gives a cell's test-sample indices (the results page opens them).
#include <QAbstractTableModel>

#include "Evaluation.h"

namespace raven::console {

class ConfusionMatrixModel : public QAbstractTableModel {
    Q_OBJECT
public:
    static constexpr int SamplesRole = Qt::UserRole + 1;  // QList<qint64>
    explicit ConfusionMatrixModel(QObject* parent = nullptr);
    void setEvaluation(const Evaluation& evaluation);
    const Evaluation& evaluation() const { return evaluation_; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    Evaluation evaluation_;
};

}  // namespace raven::console
