#pragma once
// Start-up shared by every Raven program: application name and version (so --version and the About
// boxes agree), and a command-line parser with --help and --version already added.
#include <QCommandLineParser>
#include <QString>

namespace raven::app {

// Sets the QCoreApplication name, organisation and version. Call right after constructing the app.
void identify(const QString& programName);

// Adds --help, --version and the description; the caller adds its own options, then calls process().
void addStandardOptions(QCommandLineParser& parser, const QString& description);

}  // namespace raven::app
