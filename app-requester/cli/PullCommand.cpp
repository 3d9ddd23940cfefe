// raven pull JOB: download a job's checkpoint (safetensors: the model's parameters and buffers under
// PyTorch's names, the optimizer state, the spec), which `raven eval --weights` and PyTorch read.
#include <QCommandLineParser>
#include <cstdio>

#include "Commands.h"
#include "CoordinatorConnection.h"
#include "StatusLine.h"
#include "base/Error.h"

namespace raven::cli {

int pullCommand(const QStringList& args) {
    QCommandLineParser p;
    // Not addStandardOptions: --version here picks the model version, not the program's.
    p.setApplicationDescription("Download a job's checkpoint (the latest, or --version V) as a safetensors file.");
    p.addHelpOption();
    p.addPositionalArgument("job", "The job's id (see raven jobs).", "JOB");
    p.addOptions({{{"o", "out"}, "Where to write it (default: job-JOB.safetensors).", "file.safetensors"},
                  {"version", "The model version (optimizer steps taken) to download; 0: the latest.", "V", "0"}});
    addCoordinatorOptions(p);
    p.process(args);
    const QString jobId = jobArgument(p, "pull");
    bool ok = false;
    const qulonglong version = p.value("version").toULongLong(&ok);
    RAVEN_CHECK(ok, "--version must be a whole number >= 0, not '" + p.value("version").toStdString() + "'",
                "0 takes the latest checkpoint");
    const QString out = p.isSet("out") ? p.value("out") : QStringLiteral("job-%1.safetensors").arg(jobId);

    auto coordinator = connectToCoordinator(p);
    StatusLine line;
    const requester::CheckpointDownloaded got =
        coordinator->downloadCheckpoint(jobId, version, out, [&](const requester::DownloadProgress& d) {
            line.show(QStringLiteral("downloading %1 %2/%3 kB")
                          .arg(StatusLine::bar(double(d.receivedBytes), double(d.totalBytes)))
                          .arg(d.receivedBytes / 1000)
                          .arg(d.totalBytes / 1000));
        });
    line.clear();
    std::fprintf(stderr, "job %s at version %llu: %lld bytes, sha256 %s\n", qPrintable(jobId),
                 (unsigned long long)got.modelVersion, (long long)got.bytes, qPrintable(got.sha256));
    std::printf("%s\n", qPrintable(got.path));
    return 0;
}

}  // namespace raven::cli
