// raven-console: the requesters' desktop console.
#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>

#include "AppInfo.h"
#include "ConsoleWindow.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    raven::app::identify("raven-console");
    QApplication::setWindowIcon(QIcon(":/icons/raven-console.svg"));

    QCommandLineParser parser;
    raven::app::addStandardOptions(
        parser,
        "Raven Console: import datasets, configure models, submit training jobs with a budget,\n"
        "watch them train and download the trained model.");
    parser.process(app);

    raven::console::ConsoleWindow window;
    window.show();
    return app.exec();
}
