#pragma once
// `raven train --workers N`: train through an embedded coordinator and N local raven-worker
// processes (ClusterTraining.cpp). Takes the parsed options of `raven train`.
#include <QCommandLineParser>

namespace raven::cli {

int trainOnLocalCluster(const QCommandLineParser& p);

}  // namespace raven::cli
