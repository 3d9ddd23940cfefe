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

}  // namespace raven::cli
