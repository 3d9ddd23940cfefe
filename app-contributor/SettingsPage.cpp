#include "SettingsPage.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>

#include "ScrollWheel.h"

namespace raven::contributor {

namespace {

// What each setting does, in a sentence (the tooltip and the line under the editor say it).
QString helpFor(ConfigKey key) {
    switch (key) {
        case ConfigKey::MachineName:
            return QObject::tr("The name the coordinator's operator sees for this machine.");
        case ConfigKey::ComputeWhen:
            return QObject::tr(
                "\"idle\": only after you have left the computer alone for a while; \"always\": whenever "
                "the other limits allow.");
        case ConfigKey::IdleMinutes:
            return QObject::tr("How long you must be away before computing starts.");
        case ConfigKey::WhileActive:
            return QObject::tr(
                "When you come back: \"pause\" stops at once; \"lighter\" keeps computing at the lighter "
                "limit below.");
        case ConfigKey::ActiveGpuPercent:
            return QObject::tr("The share of time the device computes while you use the machine (with \"lighter\").");
        case ConfigKey::PauseOnBattery:
            return QObject::tr("Stop on battery; start again on mains power.");
        case ConfigKey::PauseOnFullScreen:
            return QObject::tr("Stop while a full-screen window (a game, a video) is open.");
        case ConfigKey::ExclusivePrograms:
            return QObject::tr(
                "Program names, comma-separated, that stop computing while they run (e.g. steam, blender).");
        case ConfigKey::Schedule:
            return QObject::tr(
                "When computing is allowed, e.g. \"Mon-Fri 18:00-08:00; Sat,Sun all\". Empty: any time.");
        case ConfigKey::GpuCapPercent:
            return QObject::tr(
                "The share of time the device computes (it rests between work units and inside long ones); "
                "the dashboard shows the share achieved.");
        case ConfigKey::CpuThreads:
            return QObject::tr("Threads used when computing on the CPU; 0 uses all of them.");
        case ConfigKey::CacheMegabytes:
            return QObject::tr("Disk space for cached training data and model weights.");
        case ConfigKey::TemperatureCapCelsius:
            return QObject::tr(
                "Pause when the device reaches this temperature (where it reports one: NVIDIA, AMD, the CPU); "
                "0: no cap.");
        case ConfigKey::TemperatureHysteresis:
            return QObject::tr("After a pause for heat, compute again once the device is this much below the cap.");
        case ConfigKey::CpuMemoryMegabytes:
            return QObject::tr(
                "Memory a work unit may take when computing on the CPU; a larger unit is handed back to the "
                "coordinator. 0: no cap.");
        case ConfigKey::DailyTransferMegabytes:
            return QObject::tr(
                "Data sent and received per day (1000 MB = 1 GB); once reached, computing pauses until "
                "midnight. 0: no cap.");
        case ConfigKey::StartAtLogin:
            return QObject::tr("Start Raven Contributor (in the tray) when you log in.");
        default:
            return {};
    }
}

// Keys set elsewhere: by the setup (coordinator, token), the devices page, the pause and snooze actions.
bool shownHere(ConfigKey key) {
    switch (key) {
        case ConfigKey::CoordinatorUrl:
        case ConfigKey::ContributorToken:
        case ConfigKey::Devices:
        case ConfigKey::PausedByUser:
        case ConfigKey::SnoozedUntil:
        case ConfigKey::TransferToday:
            return false;
        default:
            return true;
    }
}

}  // namespace

QString SettingsPage::editorName(ConfigKey key) {
    return QString::fromLatin1(ContributorConfig::info(key).name).replace(QLatin1Char('/'), QLatin1Char('_'));
}

SettingsPage::SettingsPage(ContributorConfig& config, QWidget* parent) : QWidget(parent), config_(config) {
    setObjectName("settingsPage");
    auto* outer = new QVBoxLayout(this);
    auto* intro = new QLabel(tr("Changes apply at once. Stored in %1").arg(config_.fileName()), this);
    intro->setWordWrap(true);
    outer->addWidget(intro);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setObjectName("settingsScroll");
    auto* inner = new QWidget(scroll);
    auto* form = new QFormLayout(inner);
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    for (const ContributorConfig::KeyInfo& key : ContributorConfig::keys())
        if (shownHere(key.key)) addEditor(form, key);
    scroll->setWidget(inner);
    app::keepWheelForScrolling(*scroll);
    outer->addWidget(scroll);
    // Another way of changing a setting (the tray, --pause, the setup) shows here too.
    connect(&config_, &ContributorConfig::changed, this, &SettingsPage::load);
}

void SettingsPage::addEditor(QFormLayout* form, const ContributorConfig::KeyInfo& key) {
    const ConfigKey k = key.key;
    QWidget* editor = nullptr;
    if (key.type == QMetaType::Bool) {
        auto* box = new QCheckBox(form->parentWidget());
        connect(box, &QCheckBox::toggled, this, [this, k](bool on) {
            if (!loading_) config_.set(k, on);
        });
        editor = box;
    } else if (key.type == QMetaType::Int) {
        auto* spin = new QSpinBox(form->parentWidget());
        spin->setRange(key.min.toInt(), key.max.toInt());
        spin->setKeyboardTracking(false);  // apply the number typed, not each digit on the way
        connect(spin, &QSpinBox::valueChanged, this, [this, k](int v) {
            QString why;
            if (!loading_ && !config_.set(k, v, &why)) showRefusal(k, why);
        });
        editor = spin;
    } else if (!key.choices.isEmpty()) {
        auto* combo = new QComboBox(form->parentWidget());
        combo->addItems(key.choices);
        connect(combo, &QComboBox::currentTextChanged, this, [this, k](const QString& v) {
            if (!loading_) config_.set(k, v);
        });
        editor = combo;
    } else {
        auto* line = new QLineEdit(form->parentWidget());
        connect(line, &QLineEdit::editingFinished, this, [this, k, line] {
            if (loading_) return;
            QString why;
            if (config_.set(k, line->text(), &why))
                showRefusal(k, QString());
            else
                showRefusal(k, why);
        });
        editor = line;
    }
    editor->setObjectName(editorName(k));
    editor->setToolTip(helpFor(k));
    auto* error = new QLabel(form->parentWidget());
    error->setObjectName(editorName(k) + QStringLiteral("Error"));
    error->setStyleSheet(QStringLiteral("color: #c62828;"));
    error->hide();
    // A form row in a scroll area may squeeze its editor when a label below it hides again.
    editor->setMinimumHeight(editor->sizeHint().height());
    auto* cell = new QWidget(form->parentWidget());
    // The whole width of the form (ExpandingFieldsGrow), so that the hint under a narrow editor
    // wraps at the window's edge rather than at the editor's.
    cell->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    auto* cellLayout = new QVBoxLayout(cell);
    cellLayout->setContentsMargins(0, 0, 0, 0);
    cellLayout->addWidget(editor);
    cellLayout->addWidget(error);
    const QString help = helpFor(k);
    if (!help.isEmpty()) {
        auto* hint = new QLabel(help, cell);
        hint->setWordWrap(true);
        hint->setStyleSheet(QStringLiteral("color: palette(mid);"));
        cellLayout->addWidget(hint);
    }
    auto* label = new QLabel(tr(key.label) + QLatin1Char(':'), form->parentWidget());
    label->setBuddy(editor);
    form->addRow(label, cell);
    editors_.insert(static_cast<int>(k), editor);
    errors_.insert(static_cast<int>(k), error);
    load(k);
}

void SettingsPage::showRefusal(ConfigKey key, const QString& why) {
    QLabel* error = errors_.value(static_cast<int>(key));
    if (!error) return;
    error->setText(why.isEmpty() ? QString() : tr("Not saved: %1").arg(why));
    error->setVisible(!why.isEmpty());
}

void SettingsPage::load(ConfigKey key) {
    QWidget* editor = editors_.value(static_cast<int>(key));
    if (!editor) return;
    loading_ = true;
    const QVariant v = config_.get(key);
    if (auto* box = qobject_cast<QCheckBox*>(editor))
        box->setChecked(v.toBool());
    else if (auto* spin = qobject_cast<QSpinBox*>(editor))
        spin->setValue(v.toInt());
    else if (auto* combo = qobject_cast<QComboBox*>(editor))
        combo->setCurrentText(v.toString());
    else if (auto* line = qobject_cast<QLineEdit*>(editor)) {
        // A refused value stays in the editor (to be corrected), so only overwrite when it is not.
        const QLabel* error = errors_.value(static_cast<int>(key));
        if (!error || error->isHidden()) line->setText(v.toString());
    }
    loading_ = false;
}

}  // namespace raven::contributor
