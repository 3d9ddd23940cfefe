#include "AppInfo.h"

#include <QCoreApplication>

#include "base/Version.h"

namespace raven::app {

void identify(const QString& programName) {
    QCoreApplication::setApplicationName(programName);
    QCoreApplication::setOrganizationName("Raven");
    QCoreApplication::setOrganizationDomain("raven.invalid");
    QCoreApplication::setApplicationVersion(QString::fromLatin1(raven::kVersion));
}

void addStandardOptions(QCommandLineParser& parser, const QString& description) {
    parser.setApplicationDescription(description);
    parser.addHelpOption();
    parser.addVersionOption();
}

}  // namespace raven::app
