#pragma once
// Operator actions on a coordinator's data directory: what `raven-coordinator add-contributor`,
// `add-requester` and `status` do, and what Coordinator::addContributor/addRequester call.
//
//   ledger::CoordinatorStore store(dataDir + "/coordinator.sqlite");
//   ledger::Ledger ledger(store);
//   QString token = admin::addContributor(store, "gpu-box");
//   QString key = admin::addRequester(store, ledger, "ana", 50 * ledger::kMicroCreditsPerCredit);
//   std::puts(qPrintable(admin::statusReport(dataDir, store, ledger)));
//
// They only touch the store (SQLite in WAL mode, safe to share), so they work while a coordinator
// serves the same directory. Secrets are returned once and never stored (only their hash).
#include <QString>

#include "ledger/Ledger.h"

namespace raven::coordinator::admin {

QString addContributor(ledger::CoordinatorStore& store, const QString& name);
// Deposits `deposit` micro-credits (when > 0) into the new requester's funds, in the same transaction.
QString addRequester(ledger::CoordinatorStore& store, ledger::Ledger& ledger, const QString& name,
                     ledger::MicroCredits deposit);
// One line per job: id, state, step / total, budget, spent, escrow, name.
QString statusReport(const QString& dataDir, const ledger::CoordinatorStore& store, const ledger::Ledger& ledger);

// `raven-coordinator audit`: the ledger's own audit (Ledger::audit) and, for every job, that each
// step applied so far summed exactly the shards its plan names, each once: the done work units of
// version v together cover plan.shardsOfStep(v) as a multiset, so every sample of every step was
// counted exactly once, whatever crashes, re-issues and duplicates happened on the way.
struct AuditOutcome {
    QString report;  // one line per job, then the problems
    bool ok = true;
};
AuditOutcome auditReport(const QString& dataDir, const ledger::CoordinatorStore& store, const ledger::Ledger& ledger);

}  // namespace raven::coordinator::admin
