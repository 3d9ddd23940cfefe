// raven-contributor: the volunteers' tray app. It lives in the system tray; its window shows what this
// machine can donate and, with the worker engine, what it has done and earned.
#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>

#include "AppInfo.h"
#include "ContributorWindow.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    raven::app::identify("raven-contributor");
    QApplication::setWindowIcon(QIcon(":/icons/raven-contributor.svg"));

    QCommandLineParser parser;
    raven::app::addStandardOptions(parser,
                                   "Raven Contributor: donate your idle GPU time to train neural networks, within the\n"
                                   "limits you set, and see what it did and earned.");
    const QCommandLineOption hidden("hidden", "Start in the system tray without opening the window.");
    parser.addOption(hidden);
    parser.process(app);

    raven::contributor::ContributorWindow window;
    // Without a tray the window is the only way to reach the app, so it always opens then.
    if (!parser.isSet(hidden) || !window.tray()) window.show();
    QApplication::setQuitOnLastWindowClosed(!window.tray());
    return app.exec();
}
