#include "ContributorApp.h"

#include <QDir>

#include "Autostart.h"

namespace raven::contributor {

ContributorApp::ContributorApp(const QString& configPath, QObject* parent)
    : ContributorApp(configPath, std::make_unique<DesktopMonitor>(), parent) {}

ContributorApp::ContributorApp(const QString& configPath, std::unique_ptr<DesktopMonitor> desktop, QObject* parent)
    : QObject(parent),
      config_(configPath.isEmpty() ? std::make_unique<ContributorConfig>()
                                   : std::make_unique<ContributorConfig>(configPath)),
      desktop_(std::move(desktop)),
      service_(std::make_unique<ContributionService>(*config_, *desktop_)),
      ledger_(std::make_unique<LedgerStats>()),
      credits_(std::make_unique<CreditsModel>(*ledger_)),
      units_(std::make_unique<RecentUnitsModel>(*service_)),
      log_(std::make_unique<LogModel>()) {
    connect(service_.get(), &ContributionService::logLine, log_.get(), &LogModel::append);
    connect(service_.get(), &ContributionService::shutDownComplete, this, &ContributorApp::shutDownComplete);
    // The ledger's figures move when a unit is credited: ask again then.
    connect(service_.get(), &ContributionService::unitFinished, ledger_.get(), [this] { ledger_->refresh(); });
    connect(config_.get(), &ContributorConfig::changed, this, [this](ConfigKey key) {
        if (key == ConfigKey::CoordinatorUrl || key == ConfigKey::ContributorToken) pointLedgerAtCoordinator();
        if (key == ConfigKey::StartAtLogin) {
            QString why;
            if (!setStartAtLogin(config_->get(ConfigKey::StartAtLogin).toBool(), autostartDir_, &why))
                log_->append(QStringLiteral("start at login: ") + why);
        }
    });
}

ContributorApp::~ContributorApp() = default;

void ContributorApp::setStateDir(const QString& dir) {
    QDir().mkpath(dir);
    service_->setCacheDir(QDir(dir).filePath("cache"));
    service_->setKnownHostsPath(QDir(dir).filePath("known_hosts"));
}

void ContributorApp::start(int desktopPollMs) {
    desktop_->start(desktopPollMs);
    pointLedgerAtCoordinator();
    service_->start();
}

void ContributorApp::shutdown() { service_->shutdown(); }

void ContributorApp::pointLedgerAtCoordinator() {
    if (!config_->isSetUp()) return ledger_->setCoordinator({}, {}, {});
    ledger_->setCoordinator(QUrl(config_->get(ConfigKey::CoordinatorUrl).toString()),
                            config_->get(ConfigKey::ContributorToken).toString(), service_->knownHostsPath());
}

}  // namespace raven::contributor
