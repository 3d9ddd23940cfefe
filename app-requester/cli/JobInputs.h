#pragma once
// What a training job is made of, read from the command line the same way by `raven train` and
// `raven submit`: numbers and the optimizer from options, the model spec's text, and the dataset as
// content-addressed shards; and the upload-then-create sequence that puts a job on a coordinator.
#include <QCommandLineParser>
#include <QString>

#include "data/Manifest.h"
#include "nn/ModelSpec.h"
#include "nn/Optimizer.h"
#include "protocol/raven.pb.h"
#include "requester/BlockingRequester.h"

namespace raven::cli {

// --name as a number / a whole number >= min; raven::Error naming the option otherwise.
double numberOption(const QCommandLineParser& p, const char* name);
qint64 countOption(const QCommandLineParser& p, const char* name, qint64 min);

// --optimizer adam|adamw|sgd|momentum with --lr, --momentum, --weight-decay; validated.
nn::OptimizerConfig optimizerFromOptions(const QCommandLineParser& p);

// The hyperparameters both commands share: --optimizer and its settings, --epochs, --batch-size,
// --max-steps, --seed, --gradients, --zstd, and the local-steps options below.
void setTrainingOptions(wire::Hyperparameters& h, const QCommandLineParser& p);

// Local-steps (DiLoCo) training, both commands: --lanes M, --local-steps H, --inner-batch (default
// --batch-size), --outer-lr, --outer-momentum. Either of the first two turns it on; then
// --batch-size is the samples of one inner step of one lane and a round takes M x H x that.
QList<QCommandLineOption> localStepsOptions();
// The "Training modes" part of `raven submit --help` and `raven train --help`: each mode (plain
// data-parallel, its gradient encodings, local steps H, staleness) with one line of advice from the
// measurements in docs/training.md.
QString trainingModesHelp();

// The dataset to upload: a `raven dataset import` directory as it is, or a folder of IDX files
// imported and cut into shards under the user's cache folder first.
struct LocalDataset {
    data::Manifest manifest;
    QString shardsDirectory;
};
LocalDataset localDataset(const QString& path);

// The spec file's text, as it will be uploaded (its SHA-256 names it on the coordinator).
QString readSpecText(const QString& path);

// Uploads the dataset's missing shards (with a progress line on stderr) and the spec, fills in the
// job's dataset and spec, creates it and returns its JobInfo. The global batch must be a multiple of
// the dataset's shard size (raven::Error saying so before anything travels).
wire::JobInfo submitJob(requester::BlockingRequester& coordinator, const LocalDataset& dataset,
                        const nn::ModelSpec& spec, const QString& specText, wire::CreateJob job);

}  // namespace raven::cli
