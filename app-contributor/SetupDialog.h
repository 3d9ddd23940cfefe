#pragma once
// First-run setup, in under a minute: paste the invite line the coordinator's operator made
// (`raven-coordinator invite`), or type a wss:// address and a token and confirm the certificate
// fingerprint shown, or find a coordinator on this machine; name the machine; pick the devices; set
// the GPU cap and when to compute. "Start contributing" pins the certificate and saves it all.
#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace raven::contributor {

class ContributorConfig;
class DevicesPage;
class FingerprintProbe;

class SetupDialog : public QDialog {
    Q_OBJECT
public:
    SetupDialog(ContributorConfig& config, QString knownHostsPath, QWidget* parent = nullptr);

    void accept() override;

private:
    void addressEdited();
    void findLocal();

    ContributorConfig& config_;
    QString knownHostsPath_;
    FingerprintProbe* probe_ = nullptr;
    QLineEdit* address_ = nullptr;
    QLineEdit* token_ = nullptr;
    QLabel* fingerprint_ = nullptr;
    QCheckBox* confirm_ = nullptr;
    QLineEdit* name_ = nullptr;
    QSpinBox* cap_ = nullptr;
    QComboBox* when_ = nullptr;
    QLabel* problem_ = nullptr;
    QPushButton* start_ = nullptr;
    DevicesPage* devices_ = nullptr;
    QString probedFingerprint_;
};

}  // namespace raven::contributor
