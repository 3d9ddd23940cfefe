// raven jobs: a table of your jobs on the coordinator.
#include <QCommandLineParser>
#include <cstdio>
#include <vector>

#include "AppInfo.h"
#include "Commands.h"
#include "CoordinatorConnection.h"
#include "base/Error.h"
#include "requester/Credits.h"

namespace raven::cli {

int jobsCommand(const QStringList& args) {
    QCommandLineParser p;
    app::addStandardOptions(p,
                            "List your jobs: id, name, state, steps done of the total, credits spent of the budget.");
    addCoordinatorOptions(p);
    p.process(args);
    RAVEN_CHECK(p.positionalArguments().isEmpty(), "raven jobs takes no arguments", "see raven jobs --help");
    auto coordinator = connectToCoordinator(p);
    const std::vector<wire::JobInfo> jobs = coordinator->listJobs();
    if (jobs.empty()) {
        std::printf("no jobs yet; `raven submit` starts one\n");
        return 0;
    }
    std::vector<QStringList> rows{{"ID", "NAME", "STATE", "STEP", "CREDITS SPENT/BUDGET"}};
    for (const wire::JobInfo& job : jobs)
        rows.push_back({QString::fromStdString(job.job_id()), QString::fromStdString(job.name()),
                        requester::jobStateName(job.state()),
                        QStringLiteral("%1/%2").arg(job.step()).arg(job.total_steps()),
                        requester::formatCredits(job.spent_micro_credits()) + QLatin1Char('/') +
                            requester::formatCredits(job.budget_micro_credits())});
    std::vector<qsizetype> width(rows.front().size(), 0);
    for (const QStringList& row : rows)
        for (qsizetype c = 0; c < row.size(); ++c)
            width[std::size_t(c)] = std::max(width[std::size_t(c)], row[c].size());
    for (const QStringList& row : rows) {
        QString line;
        for (qsizetype c = 0; c < row.size(); ++c)
            line += c + 1 < row.size() ? row[c].leftJustified(width[std::size_t(c)] + 2) : row[c];
        std::printf("%s\n", line.toLocal8Bit().constData());
    }
    return 0;
}

}  // namespace raven::cli
