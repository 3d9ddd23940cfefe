// raven: the requesters' command-line client. `raven --help` lists the commands; `raven COMMAND --help`
// explains one. Errors from the engine (raven::Error) are printed with their hint, exit status 1.
#include <QCoreApplication>
#include <QTextStream>
#include <cstdio>

#include "AppInfo.h"
#include "Commands.h"
#include "base/Error.h"
#include "base/Version.h"

namespace {

void printUsage(FILE* out) {
    std::fprintf(out,
                 "Usage: raven COMMAND [options]\n"
                 "Raven trains neural networks on compute that volunteers donate.\n\nCommands:\n");
    for (const auto& c : raven::cli::commands()) std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
    std::fprintf(out,
                 "\nOptions:\n  -h, --help     Show this help.\n  -v, --version  Show the version.\n"
                 "\nRun `raven COMMAND --help` for a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    raven::app::identify("raven");

    QStringList args = QCoreApplication::arguments();
    if (args.size() < 2) {
        printUsage(stderr);
        return 2;
    }
    const QString first = args.at(1);
    if (first == "-h" || first == "--help" || first == "help") {
        printUsage(stdout);
        return 0;
    }
    if (first == "-v" || first == "--version" || first == "version") {
        std::printf("raven %s\n", raven::kVersion);
        return 0;
    }
    for (const auto& command : raven::cli::commands()) {
        if (first != QLatin1String(command.name)) continue;
        args.removeFirst();
        args[0] = QStringLiteral("raven ") + first;
        try {
            return command.run(args);
        } catch (const raven::Error& e) {
            std::fprintf(stderr, "raven %s: error: %s\n", command.name, e.what());
            return 1;
        }
    }
    std::fprintf(stderr, "raven: unknown command '%s'. Run `raven --help` for the list.\n", qPrintable(first));
    return 2;
}
