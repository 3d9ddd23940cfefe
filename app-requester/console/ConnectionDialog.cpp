#include "ConnectionDialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace raven::console {

ConnectionDialog::ConnectionDialog(int workers, QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Connect to a coordinator"));
    setObjectName("connectionDialog");
    local_ = new QRadioButton(tr("&This machine: a coordinator inside the console and local workers"));
    local_->setChecked(true);
    workers_ = new QSpinBox;
    workers_->setRange(0, 64);
    workers_->setValue(workers);
    remote_ = new QRadioButton(tr("A &remote coordinator"));
    remote_->setObjectName("connectRemote");
    url_ = new QLineEdit;
    url_->setObjectName("connectAddress");
    url_->setPlaceholderText("wss://coordinator.example:7443");
    key_ = new QLineEdit;
    key_->setObjectName("connectApiKey");
    key_->setEchoMode(QLineEdit::Password);
    key_->setPlaceholderText(tr("the API key the coordinator's operator gave you"));
    auto* pin =
        new QLabel(tr("<small>On first contact the coordinator's certificate fingerprint is pinned (shown in "
                      "the status bar); if it ever changes the console refuses to connect and shows both "
                      "fingerprints.</small>"));
    pin->setWordWrap(true);
    problem_ = new QLabel;
    problem_->setStyleSheet("color: #b00020");
    auto* form = new QFormLayout;
    form->addRow(local_);
    form->addRow(tr("Local &workers:"), workers_);
    form->addRow(remote_);
    form->addRow(tr("&Address:"), url_);
    form->addRow(tr("API &key:"), key_);
    form->addRow(pin);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(problem_);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &ConnectionDialog::validate);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto sync = [this] {
        workers_->setEnabled(local_->isChecked());
        url_->setEnabled(remote_->isChecked());
        key_->setEnabled(remote_->isChecked());
    };
    connect(local_, &QRadioButton::toggled, this, sync);
    sync();
}

bool ConnectionDialog::embedded() const { return local_->isChecked(); }
int ConnectionDialog::workers() const { return workers_->value(); }
QString ConnectionDialog::apiKey() const { return key_->text().trimmed(); }

QUrl ConnectionDialog::url() const {
    const QString text = url_->text().trimmed();
    // "host:7443" is what people type; the scheme is always wss.
    return QUrl(text.contains("://") ? text : "wss://" + text, QUrl::StrictMode);
}

void ConnectionDialog::validate() {
    if (remote_->isChecked()) {
        const QUrl u = url();
        if (!u.isValid() || u.scheme() != "wss" || u.host().isEmpty()) {
            problem_->setText(tr("Write the address as wss://host:port, e.g. wss://coordinator.example:7443."));
            url_->setFocus();
            return;
        }
        if (apiKey().isEmpty()) {
            problem_->setText(tr("Enter your API key; the coordinator's operator issues it."));
            key_->setFocus();
            return;
        }
    }
    accept();
}

}  // namespace raven::console
