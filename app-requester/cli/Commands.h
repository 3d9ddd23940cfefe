#pragma once
// The `raven` command-line client: `raven COMMAND [options]`. Each command is one function taking
// its own arguments (argv[0] is "raven COMMAND"); it returns the process exit status.
#include <QStringList>
#include <span>

namespace raven::cli {

struct Command {
    const char* name;
    const char* summary;  // one line for `raven --help`
    int (*run)(const QStringList& args);
};

// Every command, in the order `raven --help` lists them.
std::span<const Command> commands();

int devicesCommand(const QStringList& args);
int datasetCommand(const QStringList& args);
int trainCommand(const QStringList& args);
int evalCommand(const QStringList& args);
int gradCommand(const QStringList& args);
// Distributed jobs on a coordinator (CoordinatorConnection.h says how one is reached).
int submitCommand(const QStringList& args);
int jobsCommand(const QStringList& args);
int watchCommand(const QStringList& args);
int pullCommand(const QStringList& args);
int pauseCommand(const QStringList& args);
int resumeCommand(const QStringList& args);
int cancelCommand(const QStringList& args);
int balanceCommand(const QStringList& args);

}  // namespace raven::cli
