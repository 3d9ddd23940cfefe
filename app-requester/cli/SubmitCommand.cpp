// raven submit: put a training job on a coordinator. The dataset's shards that the coordinator lacks
// are uploaded (a dataset uploaded before costs nothing), then the model spec, then the job with its
// budget; the job id is printed on stdout (alone on its line, for scripts), the rest on stderr.
#include <QCommandLineParser>
#include <cstdio>

#include "AppInfo.h"
#include "Commands.h"
#include "CoordinatorConnection.h"
#include "JobInputs.h"
#include "JobWatch.h"
#include "base/Error.h"
#include "nn/ModelSpec.h"
#include "requester/Credits.h"
#include "requester/Hyperparameters.h"

namespace raven::cli {

int submitCommand(const QStringList& args) {
    QCommandLineParser p;
    app::addStandardOptions(
        p,
        "Submit a training job to a coordinator, whose contributors compute it. Prints the job id.\n"
        "The dataset's shards the coordinator lacks are uploaded first.\n" +
            trainingModesHelp());
    p.addOptions(
        {{{"m", "model"}, "The model spec (JSON, see docs/model-spec.md).", "spec.json"},
         {{"d", "data"}, "A dataset directory (raven dataset import) or a folder of IDX files.", "dir"},
         {"name", "The job's name (default: the model's).", "name"},
         {{"e", "epochs"}, "Passes over the training split.", "n", "1"},
         {{"b", "batch-size"},
          "Samples per optimizer step over all contributors; a multiple of the shard size.",
          "n",
          "128"},
         {"optimizer", "adam, adamw, sgd or momentum (sgd with momentum 0.9 unless --momentum).", "kind", "adam"},
         {"lr", "Learning rate.", "rate", "0.001"},
         {"lr-schedule",
          "How the learning rate changes over the steps: constant, step:every=200,gamma=0.5, cosine, or "
          "cosine:min=1e-5,warmup=100,start=0.01 (docs/training.md).",
          "schedule", "constant"},
         {"momentum", "SGD momentum.", "m"},
         {"weight-decay", "Weight decay.", "wd"},
         {"seed", "Seed of the order in which shards are visited.", "n", "1"},
         {"max-steps", "Stop after this many steps (0: as many as the epochs take).", "n", "0"},
         {"eval-every", "Evaluate on the test split every n steps (0: only at the end).", "n", "0"},
         {"checkpoint-every", "Keep a checkpoint every n steps (0: the coordinator's default, 50).", "n", "0"},
         {{"updates", "gradients"},
          "How contributors send their updates (gradients, or local-steps lanes' pseudo-gradients): fp32 (exact), "
          "fp16 or bf16 (half the bytes), int8 (blocks of 256 with a scale each and stochastic rounding: a quarter "
          "of the bytes; for local-steps jobs, where it costs little accuracy; docs/training.md).",
          "encoding",
          "fp32"},
         {"zstd", "Contributors compress gradients with zstd."},
         {"weights-down",
          "How the weights come down to contributors: fp32 (whole), or int8: each version as an int8 delta from the "
          "one before (a quarter of the bytes), with the rounding error carried into the next; contributors then "
          "compute on those published weights (docs/training.md, \"8-bit weights down\").",
          "encoding", "fp32"},
         {"kernels",
          "fast, or verifiable: bit-exact kernels, so that the coordinator can recompute any work unit and "
          "catch a contributor that returns a wrong gradient (docs/verification.md).",
          "mode", "fast"},
         {"aggregation",
          "mean, or centred-clip: each step clips results that lie far from the others, so that a few "
          "contributors returning wrong gradients move the model little (for fast kernels, where results "
          "cannot be recomputed; docs/verification.md).",
          "how", "mean"},
         {"spot-check",
          "With fast kernels: the coordinator recomputes a share of the results (every one of a new "
          "contributor's) before it accepts them and quarantines a contributor whose result is off by more "
          "than the fast kernels' rounding (docs/verification.md)."},
         {"budget", "Credits the job may spend (from your balance; the unspent rest comes back).", "credits"},
         {"priority", "Higher runs first among your jobs.", "p", "0"},
         {"watch", "Follow the job until it ends (as raven watch)."}});
    addCoordinatorOptions(p);
    p.addOptions(localStepsOptions());
    p.process(args);
    RAVEN_CHECK(p.isSet("model") && p.isSet("data"), "raven submit needs --model and --data",
                "e.g. raven submit --model examples/mlp.json --data /usr/share/datasets/fashion-mnist --budget 10");
    RAVEN_CHECK(p.isSet("budget"), "raven submit needs --budget CREDITS",
                "the most the job may spend; `raven balance` shows your funds");

    // Everything that can be checked here is checked before anything travels.
    const QString specText = readSpecText(p.value("model"));
    const nn::ModelSpec spec = nn::ModelSpec::parse(specText.toStdString(), p.value("model").toStdString());
    wire::CreateJob job;
    job.set_name((p.isSet("name") ? p.value("name") : QString::fromStdString(spec.name)).toStdString());
    job.set_budget_micro_credits(requester::parseCredits(p.value("budget")));
    RAVEN_CHECK(job.budget_micro_credits() > 0, "--budget must be more than 0 credits", "");
    job.set_priority(int(countOption(p, "priority", -1000000)));
    wire::Hyperparameters& h = *job.mutable_hyperparameters();
    setTrainingOptions(h, p);
    *h.mutable_lr_schedule() = requester::lrScheduleFromText(p.value("lr-schedule"));
    h.set_eval_every_steps(std::uint32_t(countOption(p, "eval-every", 0)));
    h.set_checkpoint_every_steps(std::uint32_t(countOption(p, "checkpoint-every", 0)));

    const LocalDataset dataset = localDataset(p.value("data"));
    auto coordinator = connectToCoordinator(p);
    const wire::JobInfo created = submitJob(*coordinator, dataset, spec, specText, job);
    std::printf("%s\n", created.job_id().c_str());
    std::fflush(stdout);
    if (!p.isSet("watch")) return 0;
    return watchJob(*coordinator, QString::fromStdString(created.job_id()));
}

}  // namespace raven::cli
