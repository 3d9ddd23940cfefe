#include "LayerTableModel.h"

#include <QColor>
#include <QLocale>
#include <cmath>

#include "ModelDocument.h"

namespace raven::console {

QString compactNumber(double v) {
    const char* units[] = {"", " k", " M", " G", " T", " P"};
    int u = 0;
    while (std::abs(v) >= 1000 && u < 5) {
        v /= 1000;
        ++u;
    }
    return QLocale().toString(v, 'f', u == 0 || v >= 100 ? 0 : 1) + units[u];
}

QString byteSize(double bytes) { return QLocale().formattedDataSize(qint64(bytes), 1, QLocale::DataSizeSIFormat); }

LayerTableModel::LayerTableModel(ModelDocument& document, QObject* parent)
    : QAbstractTableModel(parent), document_(document), rows_(document.layerCount()) {
    connect(&document_, &ModelDocument::changed, this, &LayerTableModel::documentChanged);
    connect(&document_, &ModelDocument::layersRearranged, this, [this] {
        beginResetModel();
        rows_ = document_.layerCount();
        endResetModel();
    });
}

void LayerTableModel::documentChanged() {
    if (document_.layerCount() != rows_) {
        beginResetModel();
        rows_ = document_.layerCount();
        endResetModel();
    } else if (rows_ > 0) {
        emit dataChanged(index(0, 0), index(rows_ - 1, ColumnCount - 1));
    }
}

int LayerTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : rows_; }
int LayerTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant LayerTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const int row = index.row();
    const ModelCheck& check = document_.check();
    const bool hasProblem = !check.ok() && check.layer == row;
    if (role == Qt::BackgroundRole) return hasProblem ? QVariant(QColor(255, 220, 215)) : QVariant();
    if (role == Qt::ToolTipRole) return hasProblem ? check.problem : QVariant();
    if (role == Qt::TextAlignmentRole && index.column() >= Parameters)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && role != Qt::EditRole) return {};
    const QJsonObject layer = document_.layer(row);
    switch (index.column()) {
        case Name:
            return layer["name"].toString();
        case Kind:
            return layer["kind"].toString();
        case Settings:
            return document_.layerFieldsText(row);
        default:
            break;
    }
    // The summary exists when the spec builds (a problem of fit with the dataset still has one).
    if (std::size_t(row) >= check.layers.size()) return QStringLiteral("—");
    const LayerSummary& s = check.layers[std::size_t(row)];
    switch (index.column()) {
        case Output:
            return s.outputShape;
        case Parameters:
            return role == Qt::EditRole ? QVariant(qint64(s.parameters)) : QLocale().toString(qint64(s.parameters));
        case Flops:
            return compactNumber(s.flops);
        case Activations:
            return byteSize(double(s.activationBytes));
        default:
            return {};
    }
}

bool LayerTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (role != Qt::EditRole || !checkIndex(index, CheckIndexOption::IndexIsValid)) return false;
    const QString text = value.toString().trimmed();
    switch (index.column()) {
        case Name:
            document_.setLayerName(index.row(), text);
            return true;
        case Kind:
            document_.setLayerKind(index.row(), text);
            return true;
        case Settings:
            return document_.setLayerFieldsText(index.row(), text.isEmpty() ? "{}" : text);
        default:
            return false;
    }
}

Qt::ItemFlags LayerTableModel::flags(const QModelIndex& index) const {
    if (!index.isValid()) return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsSelectable | Qt::ItemIsEnabled;
    if (index.column() <= Settings) f |= Qt::ItemIsEditable;
    return f;
}

QVariant LayerTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (role != Qt::DisplayRole) return {};
    if (orientation == Qt::Vertical) return section + 1;
    static const char* names[] = {
        QT_TR_NOOP("Layer"),      QT_TR_NOOP("Kind"),         QT_TR_NOOP("Settings"),          QT_TR_NOOP("Output"),
        QT_TR_NOOP("Parameters"), QT_TR_NOOP("FLOPs/sample"), QT_TR_NOOP("Activations/sample")};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

}  // namespace raven::console
