// raven train --local: train a model spec on a dataset in this process, with a progress bar, the test
// loss and accuracy after every epoch, and a checkpoint (safetensors, PyTorch names) at the end.
// raven train --workers N: the same through the distributed engine on this machine (ClusterTraining.h).
#include <QCommandLineParser>
#include <QFileInfo>
#include <cstdio>

#include "AppInfo.h"
#include "ClusterTraining.h"
#include "Commands.h"
#include "ComputeDevice.h"
#include "DatasetDirectory.h"
#include "JobInputs.h"
#include "ProgressLine.h"
#include "base/Error.h"
#include "cpu/CpuBackend.h"
#include "data/Sharding.h"
#include "nn/Architecture.h"
#include "nn/Model.h"
#include "nn/ModelCheckpoint.h"
#include "nn/Trainer.h"
#include "tensor/Shape.h"

namespace raven::cli {

int trainCommand(const QStringList& args) {
    QCommandLineParser p;
    app::addStandardOptions(p,
                            "Train a model on a dataset on this machine: in this process (--local), or through\n"
                            "local workers (--workers N) in any of the training modes below.\n" +
                                trainingModesHelp());
    p.addOptions(
        {{"local", "Train in this process."},
         {"workers",
          "Train through an embedded coordinator and n raven-worker processes on this machine, as "
          "volunteers' machines would (each with --threads threads, default 1).",
          "n"},
         {{"updates", "gradients"},
          "With --workers: updates on the wire as fp32, fp16, bf16 or int8 (a quarter of fp32's bytes, "
          "docs/training.md).",
          "encoding",
          "fp32"},
         {"zstd", "With --workers: compress gradients with zstd."},
         {"weights-down",
          "How the weights come down to contributors: fp32 (whole), or int8: each version as an int8 delta from the "
          "one before (a quarter of the bytes), with the rounding error carried into the next; contributors then "
          "compute on those published weights (docs/training.md, \"8-bit weights down\").",
          "encoding", "fp32"},
         {"kernels", "With --workers: fast, or verifiable (every work unit can be recomputed and checked).", "mode",
          "fast"},
         {"aggregation", "With --workers: mean, or centred-clip (results far from the others are clipped).", "how",
          "mean"},
         {"spot-check", "With --workers and fast kernels: the coordinator recomputes a share of the results."},
         {"cluster-dir", "With --workers: keep the coordinator's data here (default: a temporary folder).", "dir"},
         {{"m", "model"}, "The model spec (JSON, see docs/model-spec.md).", "spec.json"},
         {{"d", "data"}, "A dataset directory (raven dataset import) or a folder of IDX files.", "dir"},
         {{"e", "epochs"}, "Passes over the training split.", "n", "1"},
         {{"b", "batch-size"}, "Samples per optimizer step.", "n", "128"},
         {"optimizer", "adam, adamw, sgd or momentum (sgd with momentum 0.9 unless --momentum).", "kind", "adam"},
         {"lr", "Learning rate.", "rate", "0.001"},
         {"momentum", "SGD momentum.", "m"},
         {"weight-decay", "Weight decay.", "wd"},
         {"clip-norm", "Clip gradients to this global norm (0: off).", "norm", "0"},
         {"max-steps", "Stop after this many steps (0: no limit).", "n", "0"},
         {"train-samples", "Use only the first n training samples (0: all).", "n", "0"},
         {"seed", "Shuffling seed.", "n", "1"},
         {"shuffle-block",
          "Shuffle blocks of n consecutive samples (default: the shard size, 32, when the batch size is a "
          "multiple of it, so that a distributed job with the same seed visits the same batches; else 1).",
          "n"},
         {"device", "cpu, vulkan (the best GPU) or vulkan:N (see raven devices).", "device", "cpu"},
         {"threads", "CPU threads (default: all).", "n"},
         {{"o", "out"}, "Where to write the checkpoint.", "file.safetensors"}});
    p.addOptions(localStepsOptions());
    p.process(args);
    RAVEN_CHECK(p.isSet("local") != p.isSet("workers"), "raven train needs either --local or --workers N",
                "--local trains in this process; --workers N trains through an embedded coordinator and N local "
                "workers; to use a remote coordinator's contributors, use raven submit");
    RAVEN_CHECK(p.isSet("model") && p.isSet("data"), "raven train needs --model and --data",
                "e.g. raven train --local --model examples/mlp.json --data /usr/share/datasets/fashion-mnist");
    RAVEN_CHECK(!p.isSet("local") || !(p.isSet("lanes") || p.isSet("local-steps") || p.isSet("staleness")),
                "local steps (--lanes, --local-steps, --staleness) are a way to train over many machines",
                "use them with --workers N or raven submit; --local trains with plain steps");
    if (p.isSet("workers")) return trainOnLocalCluster(p);
    if (p.isSet("threads")) cpuBackendInstance().setThreadCount(int(countOption(p, "threads", 1)));

    ComputeDevice device(p.value("device"));
    nn::Model model(nn::ModelSpec::load(p.value("model").toStdString()), device.backend());
    const data::Dataset dataset = DatasetDirectory::open(p.value("data"));
    nn::TrainOptions options;
    options.epochs = int(countOption(p, "epochs", 1));
    options.batchSize = countOption(p, "batch-size", 1);
    options.optimizer = optimizerFromOptions(p);
    options.clipNorm = numberOption(p, "clip-norm");
    options.maxSteps = countOption(p, "max-steps", 0);
    options.trainSamples = countOption(p, "train-samples", 0);
    options.shuffleSeed = std::uint64_t(countOption(p, "seed", 0));
    if (p.isSet("shuffle-block"))
        options.shuffleBlock = countOption(p, "shuffle-block", 1);
    else if (options.batchSize % data::kDefaultShardSize == 0)
        options.shuffleBlock = data::kDefaultShardSize;

    const auto& arch = model.architecture();
    std::printf("model   %s: %lld parameters, %.1f MFLOP per sample forward\n", model.spec().name.c_str(),
                (long long)arch.parameterCount(), arch.forwardFlopsPerSample() / 1e6);
    std::printf("data    %s: %lld train, %lld test samples of %s\n", dataset.name.c_str(),
                (long long)dataset.train.count(), (long long)dataset.test.count(),
                shapeToString(dataset.featureShape()).c_str());
    std::printf("train   %d epoch(s), batch %lld, %s lr %g, on %s\n", options.epochs, (long long)options.batchSize,
                nn::toString(options.optimizer.kind).c_str(), options.optimizer.lr, device.description().c_str());
    std::fflush(stdout);

    nn::Trainer trainer(model, dataset, options);
    ProgressLine progress;
    trainer.onProgress = [&](const nn::TrainProgress& s) {
        progress.show(s.epoch, options.epochs, s.epochSamples, s.epochSize, s.loss, s.samplesPerSecond);
    };
    trainer.onEpoch = [&](const nn::EpochSummary& e) {
        progress.clear();
        std::printf("epoch %d/%d  train loss %.4f", e.epoch + 1, options.epochs, e.trainLoss);
        if (e.test) std::printf("  test loss %.4f  test accuracy %.2f%%", e.test->loss, 100.0 * e.test->accuracy);
        std::printf("  %.0f samples/s\n", e.samplesPerSecond);
        std::fflush(stdout);
    };
    const nn::TrainSummary summary = trainer.run();
    progress.clear();

    const QString out = p.isSet("out") ? p.value("out") : QString::fromStdString(model.spec().name) + ".safetensors";
    nn::saveCheckpoint(out.toStdString(), model, &trainer.optimizer());
    if (summary.test) {
        std::printf("final test accuracy %.2f%% (loss %.4f) after %lld steps; checkpoint %s\n",
                    100.0 * summary.test->accuracy, summary.test->loss, (long long)summary.steps,
                    out.toLocal8Bit().constData());
    } else {
        std::printf("trained %lld steps; checkpoint %s\n", (long long)summary.steps, out.toLocal8Bit().constData());
    }
    return 0;
}

int evalCommand(const QStringList& args) {
    QCommandLineParser p;
    app::addStandardOptions(p, "Evaluate a checkpoint on a dataset's test split: loss and accuracy.");
    p.addOptions({{{"w", "weights"}, "A checkpoint written by raven train.", "file.safetensors"},
                  {{"d", "data"}, "A dataset directory or a folder of IDX files.", "dir"},
                  {"device", "cpu, vulkan or vulkan:N.", "device", "cpu"}});
    p.process(args);
    RAVEN_CHECK(p.isSet("weights") && p.isSet("data"), "raven eval needs --weights and --data", "");
    ComputeDevice device(p.value("device"));
    auto model = nn::loadModel(p.value("weights").toStdString(), device.backend());
    const data::Dataset dataset = DatasetDirectory::open(p.value("data"));
    nn::Trainer trainer(*model, dataset, {});
    const nn::EvalResult r = trainer.evaluate(dataset.test);
    std::printf("test accuracy %.2f%%  loss %.4f  (%lld samples)\n", 100.0 * r.accuracy, r.loss, (long long)r.samples);
    return 0;
}

}  // namespace raven::cli
