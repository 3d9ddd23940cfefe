#pragma once
// LayerTableModel: the model editor's layer form and summary in one table over ModelDocument: one
// row per top-level layer with its name, kind and settings (editable: the JSON view follows), then
// what the checked architecture says of it: output shape, parameters, FLOPs per sample, activation
// memory per sample. The row a problem is at is tinted and carries the problem as its tooltip.
#include <QAbstractTableModel>

namespace raven::console {

class ModelDocument;

class LayerTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Kind, Settings, Output, Parameters, Flops, Activations, ColumnCount };
    explicit LayerTableModel(ModelDocument& document, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void documentChanged();
    ModelDocument& document_;
    int rows_ = 0;
};

// "1.2 M", "35 k": counts for people.
QString compactNumber(double value);
// "3.1 MB", "512 B".
QString byteSize(double bytes);

}  // namespace raven::console
