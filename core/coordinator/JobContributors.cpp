#include "coordinator/JobContributors.h"

#include <algorithm>
#include <map>

namespace raven::coordinator {

QList<JobContributorFigures> jobContributors(const ledger::CoordinatorStore& store, ledger::JobId job) {
    const ledger::SqlConnection& sql = store.connection();
    std::map<ledger::ContributorId, JobContributorFigures> byContributor;
    // The payments: each accepted unit of the job has its credit; a revoked one was not earned.
    QSqlQuery paid = sql.exec(
        QStringLiteral("SELECT c.contributor, COUNT(*), SUM(e.flops), "
                       "SUM(CASE WHEN c.state = 'revoked' THEN 0 ELSE c.amount END), MAX(w.accepted_at) "
                       "FROM credits c JOIN entries e ON e.id = c.entry JOIN work_units w ON w.id = c.work_unit "
                       "WHERE c.job = ? GROUP BY c.contributor"),
        {job});
    while (paid.next()) {
        JobContributorFigures& f = byContributor[paid.value(0).toLongLong()];
        f.contributor = paid.value(0).toLongLong();
        f.workUnits = paid.value(1).toLongLong();
        f.flops = paid.value(2).toLongLong();
        f.earned = paid.value(3).toLongLong();
        f.lastAccepted = ledger::fromSqlTime(paid.value(4));
    }
    QSqlQuery rejected = sql.exec(QStringLiteral("SELECT r.contributor, COUNT(*) FROM rejections r "
                                                 "JOIN work_units w ON w.id = r.work_unit WHERE w.job = ? "
                                                 "GROUP BY r.contributor"),
                                  {job});
    while (rejected.next()) {
        auto it = byContributor.find(rejected.value(0).toLongLong());
        if (it != byContributor.end()) it->second.resultsRejected = rejected.value(1).toLongLong();
    }
    QSqlQuery leased = sql.exec(QStringLiteral("SELECT l.contributor, MIN(l.granted_at) FROM leases l "
                                               "JOIN work_units w ON w.id = l.work_unit WHERE w.job = ? "
                                               "GROUP BY l.contributor"),
                                {job});
    while (leased.next()) {
        auto it = byContributor.find(leased.value(0).toLongLong());
        if (it != byContributor.end()) it->second.firstLeased = ledger::fromSqlTime(leased.value(1));
    }
    QList<JobContributorFigures> out;
    for (auto& [id, figures] : byContributor) {
        if (const auto c = store.contributor(id)) figures.name = c->name;
        out << figures;
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const JobContributorFigures& a, const JobContributorFigures& b) { return a.flops > b.flops; });
    return out;
}

}  // namespace raven::coordinator
