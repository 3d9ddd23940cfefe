#pragma once
// ImportDialog: asks which files to import and how, then shows the import's stages with a busy bar
// and Cancel while DatasetLibrary works in the background; a failure is shown under the files it is
// about, and the form keeps what was entered.
#include <QDialog>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace raven::console {

class DatasetLibrary;
struct ImportRequest;

class ImportDialog : public QDialog {
    Q_OBJECT
public:
    explicit ImportDialog(DatasetLibrary& library, QWidget* parent = nullptr);
    ImportRequest request() const;

private:
    void formatChanged();
    void browse(QLineEdit* target, bool folder);
    void startImport();
    void setBusy(bool busy);
    void reject() override;

    DatasetLibrary& library_;
    QComboBox* format_;
    QLineEdit* source_;
    QLineEdit* labels_;  // npy: y.npy
    QPushButton* browseLabels_;
    QLineEdit* name_;
    QLineEdit* labelColumn_;
    QSpinBox* imageSize_;
    QCheckBox* rgb_;
    QSpinBox* context_;
    QDoubleSpinBox* testFraction_;
    QSpinBox* maxTrain_;
    QSpinBox* maxTest_;
    QLabel* problem_;
    QLabel* stage_;
    QProgressBar* progress_;
    QPushButton* import_;
    QPushButton* cancel_;
};

}  // namespace raven::console
