#pragma once
// DatasetListModel: the imported datasets as a table (name, samples, sample shape, classes, shards),
// over DatasetLibrary; the datasets page's list and the submit form's choice.
#include <QAbstractTableModel>

namespace raven::console {

class DatasetLibrary;

class DatasetListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Samples, Shape, Classes, Shards, ColumnCount };
    static constexpr int IdRole = Qt::UserRole + 1;  // the dataset id (manifest id)

    explicit DatasetListModel(DatasetLibrary& library, QObject* parent = nullptr);
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    DatasetLibrary& library_;
};

}  // namespace raven::console
