// raven balance: your funds on the coordinator (what budgets of new jobs are taken from).
#include <QCommandLineParser>
#include <cstdio>

#include "AppInfo.h"
#include "Commands.h"
#include "CoordinatorConnection.h"
#include "base/Error.h"
#include "requester/Credits.h"

namespace raven::cli {

int balanceCommand(const QStringList& args) {
    QCommandLineParser p;
    app::addStandardOptions(p, "Show your funds on the coordinator, in credits.");
    addCoordinatorOptions(p);
    p.process(args);
    RAVEN_CHECK(p.positionalArguments().isEmpty(), "raven balance takes no arguments", "see raven balance --help");
    auto coordinator = connectToCoordinator(p);
    const wire::Balance balance = coordinator->balance();
    std::printf("%s credits (%s)\n", qPrintable(requester::formatCredits(balance.micro_credits())),
                balance.account().c_str());
    // Contributors are paid once their results are verified; a result that fails the checks is
    // not paid for, and its credits go back to the job's budget.
    std::printf("pending verification: %s credits (paid from your jobs; returned if the checks fail)\n",
                qPrintable(requester::formatCredits(balance.pending_micro_credits())));
    std::printf("withheld (failed checks): %s credits (returned to your jobs' budgets)\n",
                qPrintable(requester::formatCredits(balance.revoked_micro_credits())));
    return 0;
}

}  // namespace raven::cli
