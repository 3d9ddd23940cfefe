#pragma once
// ContributorConfig: every setting of the contributor app in one typed table (name, type, default,
// allowed range), behind QSettings, as KeePassXC's Config does.
//
//   ContributorConfig config;                                  // the user's file
//   ContributorConfig config(dir + "/contributor.ini");        // tests: a file of their own
//   int cap = config.get(ConfigKey::GpuCapPercent).toInt();
//   QString why;  if (!config.set(ConfigKey::GpuCapPercent, 150, &why)) show(why);   // refused: 10..100
//   connect(&config, &ContributorConfig::changed, ...);       // every change applies at once
//
// set() refuses a value of the wrong type or outside the range, with a sentence saying what is
// allowed; the settings page shows that sentence where the value was entered. Values read from a
// hand-edited file that break the rules read as the default.
#include <QObject>
#include <QSettings>
#include <QStringList>
#include <QVariant>

#include <functional>
#include <memory>

#include "ComputePolicy.h"

namespace raven::contributor {

enum class ConfigKey {
    // The coordinator (first-run setup writes these).
    CoordinatorUrl,    // wss://host:port
    ContributorToken,  // from the invite or the operator
    MachineName,       // the name the coordinator shows
    Devices,           // "cpu" or "vulkan:<device UUID>", comma-separated, in order of preference
    // When to compute.
    ComputeWhen,       // "idle" or "always"
    IdleMinutes,       // idle this long before computing
    WhileActive,       // "pause" or "lighter"
    ActiveGpuPercent,  // the lighter limit
    PauseOnBattery,
    PauseOnFullScreen,
    ExclusivePrograms,  // process names that pause computing while they run, comma-separated
    Schedule,           // WeeklySchedule text; empty: any time
    // How hard.
    GpuCapPercent,
    CpuThreads,  // 0: all
    CacheMegabytes,
    CpuMemoryMegabytes,      // memory a unit may take on the CPU device, MB (10^6); 0: no cap
    TemperatureCapCelsius,   // 0: no cap
    TemperatureHysteresis,   // degrees below the cap before computing again
    DailyTransferMegabytes,  // bytes up and down per local day, in MB (10^6); 0: no cap
    // Desktop.
    StartAtLogin,
    // State kept across restarts.
    PausedByUser,
    SnoozedUntil,   // ISO date-time, empty: not snoozed
    TransferToday,  // "2026-12-01 123456789": the local day and the bytes moved on it
};

class ContributorConfig : public QObject {
    Q_OBJECT
public:
    struct KeyInfo {
        ConfigKey key;
        const char* name;  // the QSettings key, e.g. "Limits/GpuCapPercent"
        QMetaType::Type type;
        QVariant defaultValue;
        QVariant min, max;                              // ints: the inclusive range
        QStringList choices;                            // strings with a fixed set of values
        std::function<QString(const QVariant&)> check;  // other rules: empty when fine, else why not
        const char* label;                              // what the settings page calls it
    };
    static const std::vector<KeyInfo>& keys();
    static const KeyInfo& info(ConfigKey key);

    // The per-user file (~/.config/Raven/raven-contributor.conf), or the one at `path`.
    explicit ContributorConfig(QObject* parent = nullptr);
    explicit ContributorConfig(const QString& path, QObject* parent = nullptr);

    QVariant get(ConfigKey key) const;
    // False (and *why) when the value breaks the key's rules; the stored value is then unchanged.
    bool set(ConfigKey key, const QVariant& value, QString* why = nullptr);
    void reset(ConfigKey key);
    // Empty when `value` is acceptable for `key`, else the sentence that says what is.
    static QString validate(ConfigKey key, const QVariant& value);

    // The limits the policy needs, read from the table.
    PolicyLimits policyLimits() const;
    bool isSetUp() const;
    QString fileName() const { return settings_->fileName(); }

signals:
    void changed(raven::contributor::ConfigKey key);

private:
    std::unique_ptr<QSettings> settings_;
};

}  // namespace raven::contributor
