#pragma once
// SamplePreviewModel: the first samples of a dataset as the preview shows them: for images one
// item per sample (the picture as decoration, the class as text; a list view in icon mode shows
// them as a grid); for flat features a table (one column per feature, up to 24, then the label).
#include <QAbstractTableModel>

#include "DatasetPreview.h"

namespace raven::console {

class SamplePreviewModel : public QAbstractTableModel {
    Q_OBJECT
public:
    static constexpr int kMaxFeatureColumns = 24;
    explicit SamplePreviewModel(QObject* parent = nullptr);

    void setPreview(const DatasetPreview& preview);
    void clear();

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    int featureColumns() const;
    DatasetPreview preview_;
    bool empty_ = true;
};

}  // namespace raven::console
