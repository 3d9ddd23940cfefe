// raven watch JOB: follow a job until it ends (see JobWatch.h).
#include <QCommandLineParser>
#include <cstdio>

#include "AppInfo.h"
#include "Commands.h"
#include "CoordinatorConnection.h"
#include "JobWatch.h"
#include "StatusLine.h"
#include "requester/Credits.h"

namespace raven::cli {

using requester::formatCredits;
using requester::jobStateName;

namespace {

void printOutcome(const wire::JobInfo& job) {
    std::printf("job %s %s at step %llu of %llu; spent %s of %s credits%s%s\n", job.job_id().c_str(),
                qPrintable(jobStateName(job.state())), (unsigned long long)job.step(),
                (unsigned long long)job.total_steps(), qPrintable(formatCredits(job.spent_micro_credits())),
                qPrintable(formatCredits(job.budget_micro_credits())), job.message().empty() ? "" : ": ",
                job.message().c_str());
}

}  // namespace

int watchJob(requester::BlockingRequester& coordinator, const QString& jobId) {
    wire::JobInfo job = coordinator.job(jobId);
    std::printf("job %s \"%s\": %s, step %llu of %llu\n", job.job_id().c_str(), job.name().c_str(),
                qPrintable(jobStateName(job.state())), (unsigned long long)job.step(),
                (unsigned long long)job.total_steps());
    std::fflush(stdout);
    if (requester::isFinished(job.state())) {
        printOutcome(job);
        return job.state() == wire::JOB_STATE_COMPLETED ? 0 : 1;
    }
    const std::uint64_t totalSteps = job.total_steps();

    StatusLine line;
    const auto onMetrics = [&](const wire::MetricsUpdate& m) {
        const std::uint64_t done = m.step();  // optimizer steps taken
        line.show(QStringLiteral("step %1/%2 %3 loss %4  %5 samples/s  %6 worker%7")
                      .arg(done)
                      .arg(totalSteps)
                      .arg(StatusLine::bar(double(done), double(totalSteps)))
                      .arg(m.train_loss(), 0, 'f', 4)
                      .arg(m.samples_per_second(), 0, 'f', 0)
                      .arg(m.active_workers())
                      .arg(m.active_workers() == 1 ? "" : "s"));
        if (m.has_eval_loss()) {
            line.clear();
            std::printf("step %llu  eval loss %.4f", (unsigned long long)done, m.eval_loss());
            if (m.has_eval_accuracy()) std::printf("  eval accuracy %.2f%%", 100.0 * m.eval_accuracy());
            std::printf("\n");
            std::fflush(stdout);
        }
    };
    const auto onEvent = [&](const wire::JobEvent& e) {
        if (e.kind() == wire::JOB_EVENT_KIND_STATE_CHANGED) {
            line.clear();
            std::printf("job %s is %s%s%s\n", e.job_id().c_str(), qPrintable(jobStateName(e.state())),
                        e.message().empty() ? "" : ": ", e.message().c_str());
        } else if (e.kind() == wire::JOB_EVENT_KIND_CHECKPOINT_WRITTEN || e.kind() == wire::JOB_EVENT_KIND_BUDGET_LOW ||
                   e.kind() == wire::JOB_EVENT_KIND_RESULT_OUTLIER) {
            line.clear();
            std::printf("%s\n", e.message().empty()
                                    ? (e.kind() == wire::JOB_EVENT_KIND_BUDGET_LOW ? "the job's budget is running low"
                                                                                   : "checkpoint written")
                                    : e.message().c_str());
        }
        std::fflush(stdout);
    };
    const wire::JobState end = coordinator.watch(jobId, onMetrics, onEvent);
    line.clear();
    job = coordinator.job(jobId);
    printOutcome(job);
    return end == wire::JOB_STATE_COMPLETED ? 0 : 1;
}

int watchCommand(const QStringList& args) {
    QCommandLineParser p;
    app::addStandardOptions(p,
                            "Follow a job: step, loss, samples/s and workers live, a line per evaluation.\n"
                            "Exits 0 when the job completes, 1 when it fails, is cancelled or runs out of budget.");
    p.addPositionalArgument("job", "The job's id (see raven jobs).", "JOB");
    addCoordinatorOptions(p);
    p.process(args);
    const QString jobId = jobArgument(p, "watch");
    auto coordinator = connectToCoordinator(p);
    return watchJob(*coordinator, jobId);
}

}  // namespace raven::cli
