#pragma once
// ContributorApp: the whole app without its widgets, wired together once: the settings, the desktop
// readings, the policy-driven worker, the ledger's figures and the models the window shows.
//
//   ContributorApp app(configPath);     // empty path: the user's settings file
//   app.start();                        // starts watching the desktop and, when allowed, computing
//   ContributorWindow window(app);      // and the tray; tests drive app and window alike
//   app.shutdown();                     // Quit: leases handed back, then shutDownComplete()
#include <QObject>

#include <memory>

#include "ContributionModels.h"
#include "ContributionService.h"
#include "ContributorConfig.h"
#include "DesktopMonitor.h"
#include "LedgerStats.h"

namespace raven::contributor {

class ContributorApp : public QObject {
    Q_OBJECT
public:
    explicit ContributorApp(const QString& configPath = {}, QObject* parent = nullptr);
    // Tests hand in the desktop (buses of their own).
    ContributorApp(const QString& configPath, std::unique_ptr<DesktopMonitor> desktop, QObject* parent = nullptr);
    ~ContributorApp() override;

    ContributorConfig& config() { return *config_; }
    DesktopMonitor& desktop() { return *desktop_; }
    ContributionService& service() { return *service_; }
    LedgerStats& ledger() { return *ledger_; }
    CreditsModel& credits() { return *credits_; }
    RecentUnitsModel& recentUnits() { return *units_; }
    LogModel& log() { return *log_; }

    // Where shards and pins live (tests: a temporary folder); before start().
    void setStateDir(const QString& dir);
    void start(int desktopPollMs = 1000);
    // Where the StartAtLogin entry goes (tests); empty: ~/.config/autostart.
    void setAutostartDir(const QString& dir) { autostartDir_ = dir; }
    void shutdown();

signals:
    void shutDownComplete();

private:
    void pointLedgerAtCoordinator();

    std::unique_ptr<ContributorConfig> config_;
    std::unique_ptr<DesktopMonitor> desktop_;
    std::unique_ptr<ContributionService> service_;
    std::unique_ptr<LedgerStats> ledger_;
    std::unique_ptr<CreditsModel> credits_;
    std::unique_ptr<RecentUnitsModel> units_;
    std::unique_ptr<LogModel> log_;
    QString autostartDir_;
};

}  // namespace raven::contributor
