#pragma once
// ModelsPage: the model editor. A template or a spec file to start from; the layers as a form (add,
// remove, reorder, edit name, kind and settings) beside the spec's JSON, kept in sync both ways
// through ModelDocument; checked at once against the chosen dataset, the problem shown under the
// form and at its layer's row; the per-layer summary and totals.
#include <QWidget>

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QTableView;

namespace raven::console {

class DatasetLibrary;
class DatasetListModel;
class LayerTableModel;
class ModelDocument;

class ModelsPage : public QWidget {
    Q_OBJECT
public:
    ModelsPage(ModelDocument& document, DatasetLibrary& library, QWidget* parent = nullptr);
    // Chooses the dataset to check against (by row of the dataset list).
    void checkAgainstDataset(int row);

private:
    void documentChanged(bool fromText);
    void openSpec();
    void addLayer();
    void moveCurrent(int by);
    int currentLayer() const;

    ModelDocument& document_;
    DatasetLibrary& library_;
    LayerTableModel* layers_;
    QComboBox* templates_;
    QComboBox* dataset_;
    QTableView* table_;
    QPlainTextEdit* json_;
    QLabel* problem_;
    QLabel* totals_;
};

}  // namespace raven::console
