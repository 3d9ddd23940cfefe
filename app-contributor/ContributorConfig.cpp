#include "ContributorConfig.h"

#include <QHostInfo>
#include <QUrl>

#include <thread>

namespace raven::contributor {

namespace {

QString checkCoordinatorUrl(const QVariant& v) {
    const QString text = v.toString();
    if (text.isEmpty()) return {};
    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid() || url.scheme() != QLatin1String("wss") || url.host().isEmpty() || url.port() <= 0)
        return QStringLiteral("write the coordinator as wss://host:port, e.g. wss://raven.example.org:7443");
    return {};
}

QString checkSchedule(const QVariant& v) {
    QString error;
    return WeeklySchedule::parse(v.toString(), &error) ? QString() : error;
}

QString checkDevices(const QVariant& v) {
    for (const QString& d : v.toString().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QString t = d.trimmed();
        if (t != QLatin1String("cpu") && !t.startsWith(QLatin1String("vulkan:")))
            return QStringLiteral("\"%1\" is not a device: use cpu or vulkan:<device UUID>").arg(t);
    }
    return {};
}

QString checkSnooze(const QVariant& v) {
    const QString text = v.toString();
    return text.isEmpty() || QDateTime::fromString(text, Qt::ISODate).isValid()
               ? QString()
               : QStringLiteral("not a date and time (ISO 8601)");
}

QString checkTransferToday(const QVariant& v) {
    const QStringList parts = v.toString().split(QLatin1Char(' '));
    if (v.toString().isEmpty()) return {};
    bool ok = false;
    if (parts.size() != 2 || !QDate::fromString(parts[0], Qt::ISODate).isValid() || parts[1].toLongLong(&ok) < 0 || !ok)
        return QStringLiteral("write a day and a byte count, e.g. 2026-12-01 123456");
    return {};
}

QString checkName(const QVariant& v) {
    return v.toString().size() > 64 ? QStringLiteral("a machine name has at most 64 characters") : QString();
}

QString checkTemperatureCap(const QVariant& v) {
    const int c = v.toInt();
    // Below 40 C a device at rest may already be there: the cap would never let it compute.
    return c == 0 || c >= 40 ? QString() : QStringLiteral("a temperature cap is 0 (none) or 40 C and above");
}

int hardwareThreads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

}  // namespace

const std::vector<ContributorConfig::KeyInfo>& ContributorConfig::keys() {
    using K = ConfigKey;
    static const std::vector<KeyInfo> table = {
        {K::CoordinatorUrl,
         "Coordinator/Url",
         QMetaType::QString,
         QString(),
         {},
         {},
         {},
         checkCoordinatorUrl,
         "Coordinator"},
        {K::ContributorToken, "Coordinator/Token", QMetaType::QString, QString(), {}, {}, {}, {}, "Token"},
        {K::MachineName,
         "Coordinator/MachineName",
         QMetaType::QString,
         QHostInfo::localHostName(),
         {},
         {},
         {},
         checkName,
         "Machine name"},
        {K::Devices, "Compute/Devices", QMetaType::QString, QStringLiteral("cpu"), {}, {}, {}, checkDevices, "Devices"},
        {K::ComputeWhen,
         "When/Compute",
         QMetaType::QString,
         QStringLiteral("idle"),
         {},
         {},
         {"idle", "always"},
         {},
         "Compute"},
        {K::IdleMinutes, "When/IdleMinutes", QMetaType::Int, 3, 1, 120, {}, {}, "Idle for (minutes)"},
        {K::WhileActive,
         "When/WhileActive",
         QMetaType::QString,
         QStringLiteral("pause"),
         {},
         {},
         {"pause", "lighter"},
         {},
         "While you are active"},
        {K::ActiveGpuPercent, "When/ActiveGpuPercent", QMetaType::Int, 25, 5, 100, {}, {}, "Lighter limit (%)"},
        {K::PauseOnBattery, "When/PauseOnBattery", QMetaType::Bool, true, {}, {}, {}, {}, "Pause on battery"},
        {K::PauseOnFullScreen,
         "When/PauseOnFullScreen",
         QMetaType::Bool,
         true,
         {},
         {},
         {},
         {},
         "Pause for full-screen windows"},
        {K::ExclusivePrograms,
         "When/ExclusivePrograms",
         QMetaType::QString,
         QString(),
         {},
         {},
         {},
         {},
         "Exclusive programs"},
        {K::Schedule, "When/Schedule", QMetaType::QString, QString(), {}, {}, {}, checkSchedule, "Hours"},
        {K::GpuCapPercent, "Limits/GpuCapPercent", QMetaType::Int, 100, 10, 100, {}, {}, "GPU usage cap (%)"},
        {K::CpuThreads, "Limits/CpuThreads", QMetaType::Int, 0, 0, hardwareThreads(), {}, {}, "CPU threads (0: all)"},
        {K::CacheMegabytes, "Limits/CacheMegabytes", QMetaType::Int, 2048, 64, 1 << 20, {}, {}, "Disk cache (MiB)"},
        {K::CpuMemoryMegabytes,
         "Limits/CpuMemoryMegabytes",
         QMetaType::Int,
         0,
         0,
         1 << 22,
         {},
         {},
         "CPU memory cap (MB, 0: none)"},
        {K::TemperatureCapCelsius,
         "Limits/TemperatureCapCelsius",
         QMetaType::Int,
         0,
         0,
         105,
         {},
         checkTemperatureCap,
         "Temperature cap (C, 0: none)"},
        {K::TemperatureHysteresis,
         "Limits/TemperatureHysteresis",
         QMetaType::Int,
         5,
         1,
         30,
         {},
         {},
         "Cool down by (C)"},
        {K::DailyTransferMegabytes,
         "Limits/DailyTransferMegabytes",
         QMetaType::Int,
         0,
         0,
         10000000,
         {},
         {},
         "Daily transfer cap (MB, 0: none)"},
        {K::StartAtLogin, "Desktop/StartAtLogin", QMetaType::Bool, false, {}, {}, {}, {}, "Start at login"},
        {K::PausedByUser, "State/PausedByUser", QMetaType::Bool, false, {}, {}, {}, {}, "Paused"},
        {K::SnoozedUntil,
         "State/SnoozedUntil",
         QMetaType::QString,
         QString(),
         {},
         {},
         {},
         checkSnooze,
         "Snoozed until"},
        {K::TransferToday,
         "State/TransferToday",
         QMetaType::QString,
         QString(),
         {},
         {},
         {},
         checkTransferToday,
         "Transferred today"},
    };
    return table;
}

const ContributorConfig::KeyInfo& ContributorConfig::info(ConfigKey key) {
    const auto& all = keys();
    // The table is in enum order; the assert keeps it so.
    const KeyInfo& k = all.at(static_cast<std::size_t>(key));
    Q_ASSERT(k.key == key);
    return k;
}

ContributorConfig::ContributorConfig(QObject* parent) : QObject(parent), settings_(std::make_unique<QSettings>()) {}

ContributorConfig::ContributorConfig(const QString& path, QObject* parent)
    : QObject(parent), settings_(std::make_unique<QSettings>(path, QSettings::IniFormat)) {}

QString ContributorConfig::validate(ConfigKey key, const QVariant& value) {
    const KeyInfo& k = info(key);
    QVariant v = value;
    if (!v.canConvert(QMetaType(k.type)) || !v.convert(QMetaType(k.type)))
        return QStringLiteral("%1 wants %2")
            .arg(QString::fromLatin1(k.label), k.type == QMetaType::Int    ? QStringLiteral("a whole number")
                                               : k.type == QMetaType::Bool ? QStringLiteral("yes or no")
                                                                           : QStringLiteral("text"));
    if (k.type == QMetaType::Int && k.min.isValid() && (v.toInt() < k.min.toInt() || v.toInt() > k.max.toInt()))
        return QStringLiteral("%1 must be between %2 and %3")
            .arg(QString::fromLatin1(k.label))
            .arg(k.min.toInt())
            .arg(k.max.toInt());
    if (!k.choices.isEmpty() && !k.choices.contains(v.toString()))
        return QStringLiteral("%1 must be one of: %2").arg(QString::fromLatin1(k.label), k.choices.join(", "));
    if (k.check) return k.check(v);
    return {};
}

QVariant ContributorConfig::get(ConfigKey key) const {
    const KeyInfo& k = info(key);
    const QVariant stored = settings_->value(QString::fromLatin1(k.name));
    if (!stored.isValid() || !validate(key, stored).isEmpty()) return k.defaultValue;
    QVariant v = stored;
    v.convert(QMetaType(k.type));
    return v;
}

bool ContributorConfig::set(ConfigKey key, const QVariant& value, QString* why) {
    const QString problem = validate(key, value);
    if (!problem.isEmpty()) {
        if (why) *why = problem;
        return false;
    }
    const KeyInfo& k = info(key);
    QVariant v = value;
    v.convert(QMetaType(k.type));
    if (get(key) == v && settings_->contains(QString::fromLatin1(k.name))) return true;
    settings_->setValue(QString::fromLatin1(k.name), v);
    settings_->sync();
    emit changed(key);
    return true;
}

void ContributorConfig::reset(ConfigKey key) {
    settings_->remove(QString::fromLatin1(info(key).name));
    settings_->sync();
    emit changed(key);
}

bool ContributorConfig::isSetUp() const {
    return !get(ConfigKey::CoordinatorUrl).toString().isEmpty() &&
           !get(ConfigKey::ContributorToken).toString().isEmpty();
}

PolicyLimits ContributorConfig::policyLimits() const {
    PolicyLimits l;
    l.when = get(ConfigKey::ComputeWhen).toString() == QLatin1String("always") ? PolicyLimits::When::Always
                                                                               : PolicyLimits::When::WhenIdle;
    l.idleMinutes = get(ConfigKey::IdleMinutes).toInt();
    l.whileActive = get(ConfigKey::WhileActive).toString() == QLatin1String("lighter")
                        ? PolicyLimits::WhileActive::Lighter
                        : PolicyLimits::WhileActive::Pause;
    l.activeGpuPercent = get(ConfigKey::ActiveGpuPercent).toInt();
    l.pauseOnBattery = get(ConfigKey::PauseOnBattery).toBool();
    l.pauseOnFullScreen = get(ConfigKey::PauseOnFullScreen).toBool();
    l.gpuCapPercent = get(ConfigKey::GpuCapPercent).toInt();
    l.cpuThreads = get(ConfigKey::CpuThreads).toInt();
    l.temperatureCapCelsius = get(ConfigKey::TemperatureCapCelsius).toInt();
    l.temperatureHysteresis = get(ConfigKey::TemperatureHysteresis).toInt();
    l.dailyTransferBytes = qint64(get(ConfigKey::DailyTransferMegabytes).toInt()) * 1000000;
    l.schedule = WeeklySchedule::parse(get(ConfigKey::Schedule).toString()).value_or(WeeklySchedule());
    return l;
}

}  // namespace raven::contributor
