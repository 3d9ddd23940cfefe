#include "coordinator/Coordinator.h"

#include "coordinator/Admin.h"
#include "coordinator/Engine.h"

namespace raven::coordinator {

Coordinator::Coordinator(CoordinatorOptions options, QObject* parent)
    : QObject(parent), options_(std::move(options)), engine_(std::make_unique<Engine>(*this, options_)) {}

Coordinator::~Coordinator() = default;

void Coordinator::start() { engine_->start(); }
QUrl Coordinator::url() const { return engine_->url(); }
QString Coordinator::fingerprint() const { return engine_->fingerprint(); }

QString Coordinator::addContributor(const QString& name) { return admin::addContributor(store(), name); }

QString Coordinator::addRequester(const QString& name, ledger::MicroCredits deposit) {
    return admin::addRequester(store(), ledger(), name, deposit);
}

ledger::CoordinatorStore& Coordinator::store() { return engine_->store(); }
ledger::Ledger& Coordinator::ledger() { return engine_->ledger(); }
const ResultVerifier& Coordinator::verifier() const { return engine_->verifier(); }
const ReplayQueue& Coordinator::replays() const { return engine_->replays(); }
const StepsAhead& Coordinator::stepsAhead() const { return engine_->stepsAhead(); }

}  // namespace raven::coordinator
