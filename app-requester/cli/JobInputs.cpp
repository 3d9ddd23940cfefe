#include "JobInputs.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <cstdio>

#include "DatasetDirectory.h"
#include "StatusLine.h"
#include "base/Error.h"
#include "data/IdxImporter.h"
#include "data/Sharding.h"
#include "protocol/WireKernelMode.h"
#include "requester/Credits.h"
#include "requester/Hyperparameters.h"

namespace raven::cli {

double numberOption(const QCommandLineParser& p, const char* name) {
    bool ok = false;
    const double v = p.value(QString::fromLatin1(name)).toDouble(&ok);
    RAVEN_CHECK(ok, std::string("--") + name + " must be a number, not '" + p.value(name).toStdString() + "'", "");
    return v;
}

qint64 countOption(const QCommandLineParser& p, const char* name, qint64 min) {
    bool ok = false;
    const qlonglong v = p.value(QString::fromLatin1(name)).toLongLong(&ok);
    RAVEN_CHECK(ok && v >= min,
                std::string("--") + name + " must be a whole number >= " + std::to_string(min) + ", not '" +
                    p.value(name).toStdString() + "'",
                "");
    return v;
}

nn::OptimizerConfig optimizerFromOptions(const QCommandLineParser& p) {
    const QString kind = p.value("optimizer").toLower();
    nn::OptimizerKind k = nn::OptimizerKind::Adam;
    if (kind == "sgd" || kind == "momentum")
        k = nn::OptimizerKind::Sgd;
    else if (kind == "adamw")
        k = nn::OptimizerKind::AdamW;
    else
        RAVEN_CHECK(kind == "adam", "unknown optimizer '" + kind.toStdString() + "'",
                    "use adam, adamw, sgd or momentum");
    nn::OptimizerConfig c = nn::OptimizerConfig::defaults(k);
    c.lr = numberOption(p, "lr");
    if (p.isSet("momentum")) c.momentum = numberOption(p, "momentum");
    if (kind == "momentum" && !p.isSet("momentum")) c.momentum = 0.9;
    if (p.isSet("weight-decay")) c.weightDecay = numberOption(p, "weight-decay");
    c.validate();
    return c;
}

LocalDataset localDataset(const QString& path) {
    const DatasetDirectory dir(path);
    if (QFileInfo::exists(dir.manifestPath())) return {dir.manifest(), dir.shardsPath()};
    RAVEN_CHECK(QFileInfo(path).isDir(), "no dataset at " + path.toStdString(),
                "give a dataset directory made by `raven dataset import`, or a folder of IDX files");
    const data::Dataset dataset = data::importIdxDirectory(path);
    // One cache folder per source folder; shards are content-addressed, so publishing again is cheap.
    const QByteArray key =
        QCryptographicHash::hash(QFileInfo(path).absoluteFilePath().toUtf8(), QCryptographicHash::Sha256)
            .toHex()
            .left(16);
    const DatasetDirectory cache(
        QDir(QStandardPaths::writableLocation(QStandardPaths::CacheLocation)).filePath("datasets/" + key));
    const data::Manifest manifest = cache.publish(dataset, data::kDefaultShardSize);
    std::fprintf(stderr, "imported %s as dataset %s (shards in %s)\n", qPrintable(path), qPrintable(manifest.id),
                 qPrintable(cache.path()));
    return {manifest, cache.shardsPath()};
}

QString readSpecText(const QString& path) {
    QFile file(path);
    RAVEN_CHECK(file.open(QIODevice::ReadOnly),
                "cannot read the model spec " + path.toStdString() + ": " + file.errorString().toStdString(),
                "check the path given to --model");
    return QString::fromUtf8(file.readAll());
}

void setTrainingOptions(wire::Hyperparameters& h, const QCommandLineParser& p) {
    requester::setOptimizer(h, optimizerFromOptions(p));
    h.set_epochs(std::uint32_t(countOption(p, "epochs", 1)));
    h.set_global_batch(std::uint32_t(countOption(p, "batch-size", 1)));
    h.set_max_steps(std::uint64_t(countOption(p, "max-steps", 0)));
    h.set_seed(std::uint64_t(countOption(p, "seed", 0)));
    h.set_gradient_encoding(requester::gradientEncodingFromName(p.value("updates")));
    h.set_gradient_zstd(p.isSet("zstd"));
    const QString down = p.value("weights-down").trimmed().toLower();
    RAVEN_CHECK(
        down == "fp32" || down == "int8", "--weights-down must be fp32 or int8, not '" + down.toStdString() + "'",
        "int8 sends each version as a delta of a quarter of the bytes (docs/training.md, \"8-bit weights down\")");
    h.set_weights_down_encoding(down == "int8" ? wire::GRADIENT_ENCODING_INT8_BLOCK : wire::GRADIENT_ENCODING_FP32);
    const std::optional<KernelMode> kernels = kernelModeFromName(p.value("kernels").toStdString());
    RAVEN_CHECK(kernels, "--kernels must be fast or verifiable, not '" + p.value("kernels").toStdString() + "'",
                "verifiable: every unit can be recomputed bit for bit and is checked (docs/verification.md)");
    h.set_kernel_mode(protocol::wireKernelMode(*kernels));
    const QString aggregation = p.value("aggregation");
    RAVEN_CHECK(aggregation == "mean" || aggregation == "centred-clip",
                "--aggregation must be mean or centred-clip, not '" + aggregation.toStdString() + "'",
                "centred-clip bounds what a few wrong results can do to a fast-mode job (docs/verification.md)");
    h.set_aggregation(aggregation == "mean" ? wire::AGGREGATION_MEAN : wire::AGGREGATION_CENTRED_CLIP);
    RAVEN_CHECK(!(p.isSet("spot-check") && *kernels == KernelMode::Verifiable),
                "--spot-check is for fast kernels: every verifiable job is checked already",
                "drop --spot-check, or submit with --kernels fast");
    h.set_spot_check(p.isSet("spot-check"));
    if (p.isSet("lanes") || p.isSet("local-steps")) {
        wire::LocalStepsPlan& local = *h.mutable_local_steps();
        local.set_lanes(std::uint32_t(countOption(p, "lanes", 1)));
        local.set_inner_steps(std::uint32_t(countOption(p, "local-steps", 1)));
        local.set_inner_batch(p.isSet("inner-batch") ? std::uint32_t(countOption(p, "inner-batch", 1))
                                                     : h.global_batch());
        if (p.isSet("staleness")) {
            const qint64 d = countOption(p, "staleness", 0);
            RAVEN_CHECK(d <= 1, "--staleness must be 0 or 1, not " + std::to_string(d),
                        "1 lets a round start from the weights one round old, so workers never wait for the outer "
                        "step (docs/training.md)");
            local.set_staleness(std::uint32_t(d));
        }
        requester::setOuterStep(
            local, p.isSet("outer-lr") ? std::optional<double>(numberOption(p, "outer-lr")) : std::nullopt,
            p.isSet("outer-momentum") ? std::optional<double>(numberOption(p, "outer-momentum")) : std::nullopt);
        // The plan's "global batch" is a round's samples: every lane's inner steps.
        h.set_global_batch(local.lanes() * local.inner_steps() * local.inner_batch());
    } else {
        for (const char* option : {"inner-batch", "outer-lr", "outer-momentum", "staleness"})
            RAVEN_CHECK(!p.isSet(option), std::string("--") + option + " needs local steps",
                        "give --lanes M and --local-steps H as well (docs/training.md)");
    }
}

QList<QCommandLineOption> localStepsOptions() {
    return {
        {"lanes",
         "Local-steps training (DiLoCo, docs/training.md): lanes per round, each a work unit of --local-steps "
         "inner optimizer steps; the lanes' updates are averaged into one outer step. Fewer workers run lanes "
         "in turn; the result is the same.",
         "M"},
        {"local-steps",
         "Inner steps per lane (H). Contributors send one update per H steps instead of one gradient per "
         "step: H times fewer bytes per sample, for home links. Measured on the MLP: H = 8 as accurate as "
         "data-parallel, H = 32 0.4 points under; H = 1 gains nothing (docs/training.md).",
         "H"},
        {"inner-batch", "With local steps: samples of one inner step (default: --batch-size).", "n"},
        {"outer-lr", "With local steps: the outer Nesterov SGD rate (default 0.7; 0.35 with --staleness 1).", "rate"},
        {"outer-momentum",
         "With local steps: the outer Nesterov momentum (default 0.9; 0.5 with --staleness 1; 0 for none).", "m"},
        {"staleness",
         "With local steps: 1 starts each round from the weights one round old, so workers go on to the next "
         "round while the coordinator takes the outer step (never waiting for it); 0 (default) waits. Local-steps "
         "jobs only (docs/training.md).",
         "d", "0"},
    };
}

QString trainingModesHelp() {
    // Figures: docs/benchmarks.md, "Local steps (DiLoCo) against synchronous Adam" (Fashion-MNIST MLP,
    // 2 epochs, 2 workers, M = 4, inner batch 128), "8-bit updates for local-steps lanes", "8-bit weights
    // down for local-steps lanes" and "Bounded staleness d = 1 against d = 0".
    return QStringLiteral(
        "\nTraining modes (docs/training.md, \"Choosing a mode\"; measured on the Fashion-MNIST MLP):\n"
        "  data-parallel (default)    every step's gradients from all contributors: the weights of --local\n"
        "                             training, 7,353 bytes up per sample; for fast links, and the only mode\n"
        "                             with --kernels verifiable, --aggregation centred-clip or --spot-check.\n"
        "  --updates bf16|fp16        data-parallel at half the bytes up (8 or 11 significant bits); --zstd\n"
        "                             compresses them further.\n"
        "  --updates int8             a quarter of fp32's bytes (blocks of 256, stochastic rounding); with\n"
        "                             local steps H = 32: 60 bytes up per sample (1/123 of data-parallel),\n"
        "                             85.74%, no accuracy lost in the measurement.\n"
        "  --weights-down int8        each version down as an int8 delta of the last (error feedback kept by\n"
        "                             the coordinator): with --updates int8, H = 32: 40 bytes down per sample\n"
        "                             instead of 116 (H = 8: 184 instead of 590), 0.2 (0.8) points lower\n"
        "                             in one run; for slow downlinks too.\n"
        "  --lanes M --local-steps H  local steps (DiLoCo): one update per H inner steps. MLP: H = 8 925\n"
        "                             bytes up per sample at the same accuracy (85.87% vs 85.89%), H = 32\n"
        "                             235 bytes, 0.4 points lower; H = 1: never. CNN, 8 workers, int8:\n"
        "                             H = 32 88.27% vs 88.33% at 1/125 of the upload; H = 128 0.7 lower at\n"
        "                             1/490 and 54% utilization over 10 Mbit/s uplinks (data-parallel: 12%\n"
        "                             on loopback). Choose H so a lane computes for seconds, not tenths.\n"
        "  --staleness 1              with local steps: the next round starts at once from weights one round\n"
        "                             old, so workers do not wait for the outer step, which then defaults to\n"
        "                             --outer-lr 0.35 --outer-momentum 0.5 (DiLoCo's 0.7/0.9 diverged on the\n"
        "                             CNN). Measured 2.9 points under d = 0 on the CNN, 1.3 on the MLP;\n"
        "                             68% vs 59% utilization on loopback, no gain over a WAN: rarely worth it.");
}

wire::JobInfo submitJob(requester::BlockingRequester& coordinator, const LocalDataset& dataset,
                        const nn::ModelSpec& spec, const QString& specText, wire::CreateJob job) {
    const std::uint32_t batch = job.hyperparameters().global_batch();
    RAVEN_CHECK(
        batch % dataset.manifest.shardSize == 0,
        "the batch size " + std::to_string(batch) + " is not a multiple of the dataset's shard size (" +
            std::to_string(dataset.manifest.shardSize) + ")",
        "contributors compute whole shards: use a multiple such as " + std::to_string(dataset.manifest.shardSize * 4));
    if (job.hyperparameters().has_local_steps()) {
        const std::uint32_t inner = job.hyperparameters().local_steps().inner_batch();
        RAVEN_CHECK(inner % dataset.manifest.shardSize == 0,
                    "the inner batch " + std::to_string(inner) + " is not a multiple of the dataset's shard size (" +
                        std::to_string(dataset.manifest.shardSize) + ")",
                    "contributors compute whole shards: use a multiple such as " +
                        std::to_string(dataset.manifest.shardSize * 2));
    }
    StatusLine line;
    const requester::DatasetUploaded uploaded = coordinator.uploadDataset(
        dataset.manifest, data::ShardStore(dataset.shardsDirectory), [&](const requester::UploadProgress& u) {
            if (u.shardsToSend > 0)
                line.show(QStringLiteral("uploading shards %1/%2 %3 %4 kB")
                              .arg(u.shardsSent)
                              .arg(u.shardsToSend)
                              .arg(StatusLine::bar(u.shardsSent, u.shardsToSend))
                              .arg(u.bytesSent / 1000));
        });
    line.clear();
    std::fprintf(stderr, "dataset %s \"%s\": %d shards, %d uploaded (%lld kB), %d already on the coordinator\n",
                 qPrintable(uploaded.datasetId), dataset.manifest.name.c_str(), uploaded.shardsTotal,
                 uploaded.shardsSent, (long long)(uploaded.bytesSent / 1000),
                 uploaded.shardsTotal - uploaded.shardsSent);

    const QString specHash = coordinator.uploadModelSpec(QString::fromStdString(spec.name), specText);
    job.set_dataset_id(uploaded.datasetId.toStdString());
    job.set_model_spec_sha256(specHash.toStdString());
    const wire::JobInfo created = coordinator.createJob(job);
    std::fprintf(stderr, "job %s \"%s\" %s: %llu steps, budget %s credits\n", created.job_id().c_str(),
                 created.name().c_str(), qPrintable(requester::jobStateName(created.state())),
                 (unsigned long long)created.total_steps(),
                 qPrintable(requester::formatCredits(created.budget_micro_credits())));
    return created;
}

}  // namespace raven::cli
