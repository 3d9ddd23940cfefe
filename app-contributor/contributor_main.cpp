// raven-contributor: the volunteers' tray app. It donates this machine's idle compute to a Raven
// coordinator within the limits the person sets, and shows what it did and earned.
//
//   raven-contributor                   open (or, when already running, raise its window)
//   raven-contributor --hidden          start in the tray (what the autostart entry runs)
//   raven-contributor --status          print the running app's state: "computing: …", "paused: …"
//   raven-contributor --pause | --resume | --snooze 1h|30m|tomorrow|14:00
#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QTimer>

#include <cstdio>
#include <cstring>
#include <utility>

#include "AppInfo.h"
#include "ContributorActions.h"
#include "ContributorApp.h"
#include "ContributorWindow.h"
#include "ControlChannel.h"
#include "ControlCommands.h"
#include "ShutdownSignals.h"
#include "base/ProcessMemory.h"

namespace {

using raven::contributor::ControlChannel;

void describe(QCommandLineParser& parser) {
    raven::app::addStandardOptions(parser,
                                   "Raven Contributor: donate your idle GPU time to train neural networks, within the\n"
                                   "limits you set, and see what it did and earned.");
    parser.addOption({"hidden", "Start in the system tray without opening the window."});
    parser.addOption({"status", "Print the running app's state and exit."});
    parser.addOption({"pause", "Pause the running app and print its state."});
    parser.addOption({"resume", "Resume the running app (ends a snooze too) and print its state."});
    parser.addOption({"snooze", "Snooze the running app: 1h, 30m, tomorrow or a time like 14:00.", "when"});
    parser.addOption({"config", "Settings file to use instead of the user's.", "file"});
    parser.addOption({"state-dir", "Folder for the cache and the pinned certificates (default: the user's).", "dir"});
    parser.addOption({"instance", "Name of the single-instance socket (tests run several apart).", "name"});
}

bool isControlCommand(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        for (const char* o : {"--status", "--pause", "--resume", "--snooze"})
            if (std::strncmp(argv[i], o, std::strlen(o)) == 0) return true;
    return false;
}

// --status and friends: no window, no display needed; one line to the running instance and back.
int control(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    raven::app::identify("raven-contributor");
    QCommandLineParser parser;
    describe(parser);
    parser.process(app);
    const QString name = parser.isSet("instance") ? parser.value("instance") : ControlChannel::defaultName();
    const QString line = parser.isSet("pause")    ? QStringLiteral("pause")
                         : parser.isSet("resume") ? QStringLiteral("resume")
                         : parser.isSet("snooze") ? QStringLiteral("snooze ") + parser.value("snooze")
                                                  : QStringLiteral("status");
    const auto answer = ControlChannel::send(name, line);
    if (!answer) {
        std::fprintf(stderr, "raven-contributor: not running (start it first: raven-contributor)\n");
        return 3;
    }
    const bool ok = answer->startsWith(QLatin1String("ok "));
    std::fprintf(ok ? stdout : stderr, "%s\n", qPrintable(answer->mid(ok ? 3 : 6)));
    return ok ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (isControlCommand(argc, argv)) return control(argc, argv);

    raven::keepLargeBuffersInProcess();  // the worker inside moves a megabyte or more per unit
    QApplication app(argc, argv);
    raven::app::identify("raven-contributor");
    QApplication::setDesktopFileName(QStringLiteral("org.raven.Contributor"));
    QApplication::setWindowIcon(QIcon(":/icons/raven-contributor.svg"));
    QCommandLineParser parser;
    describe(parser);
    parser.process(app);

    ControlChannel channel(parser.isSet("instance") ? parser.value("instance") : ControlChannel::defaultName());
    if (!channel.listen()) {
        // One instance per user: the running one raises its window instead.
        const auto answer = ControlChannel::send(
            parser.isSet("instance") ? parser.value("instance") : ControlChannel::defaultName(), "show");
        std::fprintf(stderr, "raven-contributor: already running; %s\n",
                     answer ? "its window is raised" : "it does not answer (stuck?)");
        return answer ? 0 : 1;
    }

    raven::contributor::ContributorApp contributor(parser.value("config"));
    if (parser.isSet("state-dir")) contributor.setStateDir(parser.value("state-dir"));
    raven::contributor::ContributorWindow window(contributor);
    channel.setHandler([&](const QString& command, const QString& argument) {
        if (command == QLatin1String("show")) {
            window.raiseToFront();
            return QStringLiteral("ok shown");
        }
        return raven::contributor::runControlCommand(contributor.service(), command, argument);
    });

    // Quit hands the leases back first; the worker may take up to its grace period to finish a unit.
    bool quitting = false;
    const auto quitHandingBack = [&] {
        if (std::exchange(quitting, true)) return QApplication::quit();  // asked twice: now
        window.hide();
        contributor.shutdown();
        QTimer::singleShot(40000, &app, &QApplication::quit);  // never hang on a dead connection
    };
    QObject::connect(window.actions()->quit, &QAction::triggered, &app, quitHandingBack);
    // Logout, systemd and `kill` end it the same way, not with the work dropped (its leases would
    // hold a step back until their deadline).
    raven::app::onTerminationSignals(quitHandingBack);
    QObject::connect(&contributor, &raven::contributor::ContributorApp::shutDownComplete, &app, &QApplication::quit);
    QApplication::setQuitOnLastWindowClosed(false);

    contributor.start();
    // Without a tray the window is the only way to reach the app, so it always opens then.
    if (!parser.isSet("hidden") || !window.tray()) window.show();
    if (!contributor.config().isSetUp() && !parser.isSet("hidden"))
        QTimer::singleShot(0, &window, &raven::contributor::ContributorWindow::openSetup);
    return app.exec();
}
