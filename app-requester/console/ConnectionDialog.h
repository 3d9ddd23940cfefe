#pragma once
// ConnectionDialog: where the console's coordinator is: this machine (an embedded coordinator and
// N local workers, nothing to set up) or a remote one by address and API key. The certificate is
// pinned on first contact; the dialog says so, and a changed one is refused with both fingerprints.
#include <QDialog>
#include <QUrl>

class QLineEdit;
class QRadioButton;
class QSpinBox;
class QLabel;

namespace raven::console {

class ConnectionDialog : public QDialog {
    Q_OBJECT
public:
    explicit ConnectionDialog(int workers, QWidget* parent = nullptr);
    bool embedded() const;
    int workers() const;
    QUrl url() const;
    QString apiKey() const;

private:
    void validate();

    QRadioButton* local_;
    QRadioButton* remote_;
    QSpinBox* workers_;
    QLineEdit* url_;
    QLineEdit* key_;
    QLabel* problem_;
};

}  // namespace raven::console
