#pragma once
// JobContributors: who computed a job, from the coordinator's store: per contributor with an accepted
// unit of the job, its units, the FLOPs and credits the ledger paid it for them, its rejected results
// and when it worked on the job. What a requester sees of the people behind its job: their display
// name and id, nothing of their tokens, devices or other work.
//
//   for (const JobContributorFigures& c : jobContributors(store, job)) ...   // most FLOPs first
#include <QList>
#include <QString>

#include "ledger/CoordinatorStore.h"

namespace raven::coordinator {

struct JobContributorFigures {
    ledger::ContributorId contributor = 0;
    QString name;
    qint64 workUnits = 0;  // accepted (each paid once)
    qint64 flops = 0;      // of those units, as paid
    ledger::MicroCredits earned = 0;
    qint64 resultsRejected = 0;  // of the job's units
    QDateTime firstLeased;       // its first lease of a unit of the job
    QDateTime lastAccepted;
};

QList<JobContributorFigures> jobContributors(const ledger::CoordinatorStore& store, ledger::JobId job);

}  // namespace raven::coordinator
