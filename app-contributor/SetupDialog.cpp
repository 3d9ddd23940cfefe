#include "SetupDialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "ContributorConfig.h"
#include "DevicesPage.h"
#include "Invite.h"

namespace raven::contributor {

namespace {
// A fingerprint in two lines of 16 bytes, so that it fits and can be compared by eye.
QString twoLines(const QString& fingerprint) {
    const int middle = fingerprint.indexOf(QLatin1Char(':'), 7 + 16 * 3 - 1);
    return middle < 0 ? fingerprint
                      : fingerprint.left(middle + 1) + QStringLiteral("<br>") + fingerprint.mid(middle + 1);
}
}  // namespace

SetupDialog::SetupDialog(ContributorConfig& config, QString knownHostsPath, QWidget* parent)
    : QDialog(parent), config_(config), knownHostsPath_(std::move(knownHostsPath)) {
    setObjectName("setupDialog");
    setWindowTitle(tr("Set up Raven Contributor"));
    resize(720, 640);
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(tr("<h3>Donate this computer's idle time to train neural networks</h3>"
                                "<p>Paste the invite line you were given (it starts with <tt>raven://</tt>), or the "
                                "coordinator's address and your token.</p>"),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto* form = new QFormLayout;
    auto* addressRow = new QHBoxLayout;
    address_ = new QLineEdit(this);
    address_->setObjectName("inviteEdit");
    address_->setPlaceholderText(tr("raven://host:7443?fp=sha256:…&token=…   or   wss://host:7443"));
    addressRow->addWidget(address_);
    auto* local = new QPushButton(tr("Find on this &machine"), this);
    local->setObjectName("findLocalButton");
    addressRow->addWidget(local);
    auto* addressLabel = new QLabel(tr("&Invite or address:"), this);
    addressLabel->setBuddy(address_);
    form->addRow(addressLabel, addressRow);
    token_ = new QLineEdit(this);
    token_->setObjectName("tokenEdit");
    token_->setPlaceholderText(tr("the contributor token from the coordinator's operator"));
    form->addRow(tr("&Token:"), token_);
    fingerprint_ = new QLabel(this);
    fingerprint_->setObjectName("fingerprintLabel");  // lines broken by hand: a fingerprint has no spaces
    fingerprint_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Certificate:"), fingerprint_);
    confirm_ = new QCheckBox(tr("I have &compared this fingerprint with the one the operator gave me"), this);
    confirm_->setObjectName("confirmFingerprint");
    confirm_->hide();
    form->addRow(QString(), confirm_);
    name_ = new QLineEdit(config_.get(ConfigKey::MachineName).toString(), this);
    name_->setObjectName("machineNameEdit");
    form->addRow(tr("Machine &name:"), name_);
    when_ = new QComboBox(this);
    when_->setObjectName("computeWhenCombo");
    when_->addItem(tr("when I'm away from the computer"), QStringLiteral("idle"));
    when_->addItem(tr("always (within the limits)"), QStringLiteral("always"));
    when_->setCurrentIndex(config_.get(ConfigKey::ComputeWhen).toString() == QLatin1String("always") ? 1 : 0);
    form->addRow(tr("Compute &when:"), when_);
    cap_ = new QSpinBox(this);
    cap_->setObjectName("gpuCapSpin");
    const auto& capInfo = ContributorConfig::info(ConfigKey::GpuCapPercent);
    cap_->setRange(capInfo.min.toInt(), capInfo.max.toInt());
    cap_->setSuffix(QStringLiteral(" %"));
    cap_->setValue(config_.get(ConfigKey::GpuCapPercent).toInt());
    form->addRow(tr("GPU usage &cap:"), cap_);
    layout->addLayout(form);

    devices_ = new DevicesPage(config_, this);
    layout->addWidget(devices_, 1);

    problem_ = new QLabel(this);
    problem_->setObjectName("setupProblem");
    problem_->setStyleSheet(QStringLiteral("color: #c62828;"));
    problem_->setWordWrap(true);
    layout->addWidget(problem_);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    start_ = buttons->addButton(tr("&Start contributing"), QDialogButtonBox::AcceptRole);
    start_->setObjectName("startButton");
    start_->setDefault(true);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &SetupDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    probe_ = new FingerprintProbe(this);
    connect(probe_, &FingerprintProbe::found, this, [this](const QString& fp) {
        probedFingerprint_ = fp;
        fingerprint_->setText(tr("<b>%1</b><br>Compare it with the fingerprint the operator gave you; it is "
                                 "pinned when you start, and a different certificate later is refused.")
                                  .arg(twoLines(fp)));
        confirm_->show();
    });
    connect(probe_, &FingerprintProbe::failed, this, [this](const QString& why) {
        fingerprint_->setText(tr("Could not reach the coordinator:<br>%1").arg(why.toHtmlEscaped()));
    });
    connect(address_, &QLineEdit::editingFinished, this, &SetupDialog::addressEdited);
    connect(local, &QPushButton::clicked, this, &SetupDialog::findLocal);
    address_->setText(config_.get(ConfigKey::CoordinatorUrl).toString());
}

void SetupDialog::addressEdited() {
    const QString text = address_->text().trimmed();
    problem_->clear();
    probedFingerprint_.clear();
    confirm_->hide();
    confirm_->setChecked(false);
    if (text.startsWith(QLatin1String("raven://"))) {
        QString why;
        const auto invite = Invite::parse(text, &why);
        token_->setEnabled(!invite);
        fingerprint_->setText(invite ? tr("%1<br>(carried by the invite)").arg(twoLines(invite->fingerprint))
                                     : tr("This invite cannot be used: %1").arg(why));
        if (invite && !invite->name.isEmpty() && name_->text().isEmpty()) name_->setText(invite->name);
        return;
    }
    token_->setEnabled(true);
    const QUrl url(text);
    if (url.scheme() == QLatin1String("wss") && !url.host().isEmpty()) {
        fingerprint_->setText(tr("Connecting to read the certificate…"));
        probe_->probe(url);
    } else if (!text.isEmpty()) {
        fingerprint_->setText(tr("Write an invite (raven://…) or an address (wss://host:port)."));
    }
}

void SetupDialog::findLocal() {
    address_->setText(localCoordinatorUrl().toString());
    addressEdited();
}

void SetupDialog::accept() {
    const QString text = address_->text().trimmed();
    QString why;
    std::optional<Invite> invite;
    if (text.startsWith(QLatin1String("raven://"))) {
        invite = Invite::parse(text, &why);
    } else {
        const QUrl url(text);
        if (url.scheme() != QLatin1String("wss") || url.host().isEmpty() || url.port() <= 0)
            why = tr("write an invite (raven://…) or an address wss://host:port");
        else if (token_->text().trimmed().isEmpty())
            why = tr("the token is missing: ask the coordinator's operator for one");
        else if (probedFingerprint_.isEmpty())
            why = tr("the coordinator's certificate has not been read yet: leave the address field to connect");
        else if (!confirm_->isChecked())
            why = tr("compare the certificate fingerprint with the operator's and tick the box");
        else
            invite = Invite{url.host(), url.port(), probedFingerprint_, token_->text().trimmed(), QString()};
    }
    if (invite) {
        config_.set(ConfigKey::ComputeWhen, when_->currentData());
        config_.set(ConfigKey::GpuCapPercent, cap_->value());
        if (joinCoordinator(config_, knownHostsPath_, *invite, name_->text().trimmed(), &why)) return QDialog::accept();
    }
    problem_->setText(tr("Not yet: %1").arg(why));
}

}  // namespace raven::contributor
