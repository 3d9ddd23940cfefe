// raven pause|resume|cancel JOB: control a job. Cancelling gives the unspent budget back.
#include <QCommandLineParser>
#include <cstdio>

#include "AppInfo.h"
#include "Commands.h"
#include "CoordinatorConnection.h"
#include "requester/Credits.h"

namespace raven::cli {

namespace {

int control(const QStringList& args, const char* verb, const QString& description, wire::JobAction action) {
    QCommandLineParser p;
    app::addStandardOptions(p, description);
    p.addPositionalArgument("job", "The job's id (see raven jobs).", "JOB");
    addCoordinatorOptions(p);
    p.process(args);
    const QString jobId = jobArgument(p, verb);
    auto coordinator = connectToCoordinator(p);
    const wire::JobInfo job = coordinator->controlJob(jobId, action);
    std::printf("job %s \"%s\" is %s at step %llu of %llu; spent %s of %s credits\n", job.job_id().c_str(),
                job.name().c_str(), qPrintable(requester::jobStateName(job.state())), (unsigned long long)job.step(),
                (unsigned long long)job.total_steps(), qPrintable(requester::formatCredits(job.spent_micro_credits())),
                qPrintable(requester::formatCredits(job.budget_micro_credits())));
    if (action == wire::JOB_ACTION_CANCEL)
        std::printf("your balance is now %s credits\n",
                    qPrintable(requester::formatCredits(coordinator->balance().micro_credits())));
    return 0;
}

}  // namespace

int pauseCommand(const QStringList& args) {
    return control(args, "pause", QStringLiteral("Pause a job: no new work is handed out until raven resume."),
                   wire::JOB_ACTION_PAUSE);
}

int resumeCommand(const QStringList& args) {
    return control(args, "resume", QStringLiteral("Resume a paused job."), wire::JOB_ACTION_RESUME);
}

int cancelCommand(const QStringList& args) {
    return control(args, "cancel",
                   QStringLiteral("Cancel a job for good; the unspent budget goes back to your balance. Its "
                                  "checkpoints can still be pulled."),
                   wire::JOB_ACTION_CANCEL);
}

}  // namespace raven::cli
