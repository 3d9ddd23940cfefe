// raven-console: the requesters' desktop console.
#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>

#include "AppInfo.h"
#include "ConsoleWindow.h"
#include "ShutdownSignals.h"
#include "base/ProcessMemory.h"

int main(int argc, char** argv) {
    raven::keepLargeBuffersInProcess();  // an embedded coordinator takes in a gradient per unit
    QApplication app(argc, argv);
    raven::app::identify("raven-console");
    QApplication::setWindowIcon(QIcon(":/icons/raven-console.svg"));

    QCommandLineParser parser;
    raven::app::addStandardOptions(
        parser,
        "Raven Console: import datasets, configure models, submit training jobs with a budget,\n"
        "watch them train and download the trained model.");
    parser.addOptions({{"data-dir", "Keep datasets, the embedded coordinator and histories here.", "dir"},
                       {"workers", "Local workers for the coordinator on this machine.", "n", "2"}});
    parser.process(app);

    raven::console::ConsoleOptions options;
    options.dataDirectory = parser.value("data-dir");
    options.localWorkers = std::max(0, parser.value("workers").toInt());
    options.connectAtStart = true;
    raven::console::ConsoleWindow window(options);
    // Logout, systemd and `kill` close it as its window does: the local workers hand back their
    // units and the embedded coordinator stops cleanly.
    raven::app::quitOnTerminationSignals();
    window.show();
    return app.exec();
}
