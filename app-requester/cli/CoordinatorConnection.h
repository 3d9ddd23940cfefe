#pragma once
// How the coordinator commands (submit, jobs, watch, pull, pause, resume, cancel, balance) find and
// authenticate to a coordinator:
//   --coordinator wss://host:port   or RAVEN_COORDINATOR
//   --api-key KEY                   or --api-key-file FILE, or RAVEN_API_KEY
//   --known-hosts FILE              or RAVEN_KNOWN_HOSTS; default <data dir>/raven/known_hosts
// The coordinator's certificate is pinned on first contact (trust on first use, as ssh does).
#include <QCommandLineParser>
#include <memory>

#include "requester/BlockingRequester.h"

namespace raven::cli {

void addCoordinatorOptions(QCommandLineParser& parser);

// Connects and authenticates as the options (or the environment) say; raven::Error naming what to
// fix when that fails.
std::unique_ptr<requester::BlockingRequester> connectToCoordinator(const QCommandLineParser& parser);

// The one positional JOB id of `raven watch|pull|pause|resume|cancel`; raven::Error otherwise.
QString jobArgument(const QCommandLineParser& parser, const char* command);

}  // namespace raven::cli
