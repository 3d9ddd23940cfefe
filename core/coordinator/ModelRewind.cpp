#include "coordinator/ModelRewind.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>

#include <algorithm>

#include "base/Error.h"
#include "checkpoint/Checkpoint.h"
#include "coordinator/CrashPoints.h"
#include "coordinator/DurableFile.h"
#include "coordinator/LearningRateSchedule.h"
#include "coordinator/ResultComparison.h"
#include "coordinator/ResultFile.h"
#include "coordinator/UnitReplay.h"
#include "nn/ModelCheckpoint.h"
#include "protocol/WireKernelMode.h"

namespace raven::coordinator {

namespace {

QByteArray rewindBytes(const std::vector<std::byte>& bytes) {
    return QByteArray(reinterpret_cast<const char*>(bytes.data()), static_cast<qsizetype>(bytes.size()));
}

// The weights of `model` as the runner serves them to workers (JobRunner::currentWeights).
QByteArray servedWeights(const nn::Model& model, qint64 version) {
    Checkpoint weights = nn::toCheckpoint(model);
    weights.step = version;
    return rewindBytes(weights.toSafeTensors().toBytes());
}

// As ResultVerifier judges a replayed result: exactly in a verifiable job, within a tolerance in a fast one.
bool sameResult(KernelMode mode, const StoredResult& theirs, const protocol::WorkResult& mine,
                std::int64_t predictions) {
    const ComparedResult stored{theirs.gradient, theirs.samples, theirs.lossSum, theirs.correct};
    return resultDifference(mode, stored, ComparedResult::of(mine), predictions).isEmpty();
}

class Rewinder {
public:
    Rewinder(RewindInput& in, const data::ShardStore& shards) : in_(in), archive_(in.files), replay_(shards) {}

    RewindOutcome run() {
        QElapsedTimer timer;
        timer.start();
        // A rewind cut short before its state file was written left its staging: discarded (or, had
        // it been written, taken); this one starts from the archive as it is.
        archive_.settleStaging(in_.files.statePath());
        RewindOutcome out;
        const std::set<ledger::WorkUnitId> differing = replaySuspects(out.summary);
        if (differing.empty()) {
            if (in_.prepared) out.product = JobRunner::computeStep(*in_.prepared);
        } else {
            out.product = recompute(differing, out.summary);
        }
        out.summary.seconds = static_cast<double>(timer.elapsed()) / 1000.0;
        if (out.product) out.product->rewind = out.summary;
        return out;
    }

private:
    bool stepDue() const { return in_.prepared.has_value(); }

    // Where step `step`'s accepted results are: archived, or results/ for the step due.
    QString resultPath(qint64 step, ledger::WorkUnitId unit) const {
        return step < in_.version ? archive_.resultPath(step, unit) : in_.files.resultPath(unit);
    }

    protocol::WorkResult compute(const ledger::WorkUnit& unit, const QByteArray& weights, bool freshWeights) {
        ReplayInput input{in_.job,
                          unit,
                          weights,
                          in_.specJson,
                          in_.config.modelSpecSha256.toStdString(),
                          in_.manifest,
                          in_.config.kernelMode,
                          in_.config.gradientEncoding};
        return replay_.compute(input, freshWeights);
    }

    // Step 1: the suspects replayed on the weights they were computed on; the ones that differ.
    std::set<ledger::WorkUnitId> replaySuspects(RewindSummary& summary) {
        std::set<ledger::WorkUnitId> differing;
        for (const auto& [step, units] : in_.steps) {
            QByteArray weights;
            bool first = true;
            for (const ledger::WorkUnit& unit : units) {
                if (!in_.suspects.count(unit.id)) continue;
                if (weights.isEmpty())
                    weights = step < in_.version ? readWhole(archive_.statePath(step)) : in_.currentWeights;
                const StoredResult theirs = ResultFile::read(resultPath(step, unit.id), in_.parameterCount);
                const protocol::WorkResult mine = compute(unit, weights, first);
                first = false;
                ++summary.checked;
                if (!sameResult(in_.config.kernelMode, theirs, mine, predictionsPerSample(in_.manifest)))
                    differing.insert(unit.id);
            }
        }
        return differing;
    }

    // Step 3: from the earliest step with a differing result to the last one.
    std::optional<StepProduct> recompute(const std::set<ledger::WorkUnitId>& differing, RewindSummary& summary) {
        qint64 from = -1;
        for (const auto& [step, units] : in_.steps)
            for (const ledger::WorkUnit& unit : units)
                if (from < 0 && differing.count(unit.id)) from = step;
        summary.from = from;
        summary.replaced = static_cast<int>(differing.size());
        const qint64 last = stepDue() ? in_.version : in_.version - 1;
        const std::string spec = "job " + std::to_string(in_.job) + " spec";
        auto model = std::make_shared<nn::Model>(nn::ModelSpec::parse(in_.specJson, spec));
        const QString fromState = from < in_.version ? archive_.statePath(from) : in_.files.statePath();
        const Checkpoint state = Checkpoint::read(fromState.toStdString());
        nn::loadParameters(*model, state);
        std::shared_ptr<nn::Optimizer> optimizer = nn::optimizerFromCheckpoint(state, model->parameterNames());
        RAVEN_CHECK(optimizer != nullptr, fromState.toStdString() + " holds no optimizer state",
                    "the rewind archive was changed by hand; the job cannot be rewound");
        std::optional<StepProduct> product;
        for (qint64 step = from; step <= last; ++step) {
            const auto units = in_.steps.find(step);
            RAVEN_CHECK(
                units != in_.steps.end() && !units->second.isEmpty(),
                "job " + std::to_string(in_.job) + ": step " + std::to_string(step) + " is not in the rewind archive",
                "");
            const QByteArray weights = servedWeights(*model, step);
            StepWork work;
            work.job = in_.job;
            work.version = step;
            work.model = model;
            work.optimizer = optimizer;
            // A robust job's step is combined by computeStep() from all its results, as JobRunner does.
            const bool robust = in_.config.aggregation != Aggregation::Mean;
            if (robust)
                work.robust = in_.config.robust;
            else
                work.gradientSum.assign(static_cast<std::size_t>(in_.parameterCount), 0.0f);
            // What is recomputed goes to the staging (RewindArchive.h): the archive stays as it was
            // until the job's state file holds the rewind's result, so a rewind cut short is done again.
            const QString stagedStep = QDir(staged_.dir()).filePath(QString::number(step));
            RAVEN_CHECK(QDir().mkpath(stagedStep), "cannot create " + stagedStep.toStdString(),
                        "check the data directory's permissions");
            std::vector<std::pair<QString, QByteArrayList>> rewritten;
            std::vector<protocol::WorkResult> keptAlive;  // the pieces point into these until written
            keptAlive.reserve(static_cast<std::size_t>(units->second.size()));
            std::int64_t samples = 0, correct = 0;
            double lossSum = 0.0;
            bool first = true;
            for (const ledger::WorkUnit& unit : units->second) {  // id order, as OrderedGradientSum
                const QString path = resultPath(step, unit.id);
                StoredResult r;
                if (step > from || differing.count(unit.id)) {
                    const ledger::ContributorId who = ResultFile::info(path).value("contributor").toInteger();
                    protocol::WorkResult& mine = keptAlive.emplace_back(compute(unit, weights, first));
                    first = false;
                    ++summary.recomputed;
                    rewritten.emplace_back(staged_.resultPath(step, unit.id), ResultFile::pieces(who, mine, QString()));
                    r.gradient = mine.gradient;
                    r.samples = static_cast<std::int64_t>(mine.sampleCount);
                    r.lossSum = mine.loss;
                    r.correct = static_cast<std::int64_t>(mine.correct);
                    r.contributor = who;
                } else {
                    const QByteArray bytes = readWhole(path);
                    r = ResultFile::parse(bytes, path, in_.parameterCount);
                    // The step due's results leave results/ with the step: the archive gets them from here.
                    if (step == in_.version) writeDurably(staged_.resultPath(step, unit.id), bytes);
                }
                samples += r.samples;
                lossSum += r.lossSum;
                correct += r.correct;
                if (!work.report.contributors.contains(r.contributor)) work.report.contributors << r.contributor;
                if (robust)
                    work.robustInputs.emplace_back(unit.id, std::move(r));
                else
                    for (std::size_t i = 0; i < work.gradientSum.size(); ++i) work.gradientSum[i] += r.gradient[i];
            }
            if (!rewritten.empty()) writeDurably(rewritten);
            keptAlive.clear();
            work.divisor = samples;
            work.report.samples = samples;
            work.report.trainLoss = lossSum / static_cast<double>(samples);
            work.report.accuracy = static_cast<double>(correct) / static_cast<double>(samples);
            work.report.learningRate =
                learningRateAt(in_.config.hyperparameters.lr_schedule(), in_.config.optimizer.lr, step, in_.totalSteps);
            // The recomputed version step + 1 is staged; the last one becomes the job's state below.
            const QString finalPath = QDir(staged_.dir()).filePath(QStringLiteral("final.safetensors"));
            work.statePath = step == last ? finalPath : staged_.statePath(step + 1);
            // Rewound from the step due itself: its state V is unchanged, kept as the archive's.
            if (step == from && step == in_.version) staged_.keepState(step);
            product = JobRunner::computeStep(work);
        }
        // The commit: the intent (the state's hash), the state file, then the staging over the archive.
        const QString finalPath = QDir(staged_.dir()).filePath(QStringLiteral("final.safetensors"));
        const QByteArray finalState = readWhole(finalPath);
        dropOldCheckpoints(from);
        archive_.beginCommit(finalState);
        writeDurably(in_.files.statePath(), finalState);
        crashPoint(CrashPoint::RewindStateWritten);
        RAVEN_CHECK(archive_.settleStaging(in_.files.statePath()),
                    "job " + std::to_string(in_.job) + ": the rewind's state file is not the one it announced", "");
        product->model = model;
        product->optimizer = optimizer;
        return product;
    }

    // The downloadable checkpoints of versions after `from` hold the old lineage: they go (the
    // job writes its next ones, and its last, from the recomputed model).
    void dropOldCheckpoints(qint64 from) const {
        for (const qint64 v : in_.files.checkpointVersions())
            if (v > from) QFile::remove(in_.files.checkpointPath(v));
    }

    RewindInput& in_;
    RewindArchive archive_;
    RewindArchive staged_ = archive_.staging();
    UnitReplay replay_;  // its own model and backend: the live verifications keep theirs
};

}  // namespace

RewindOutcome rewindModel(RewindInput& input, const data::ShardStore& shards) { return Rewinder(input, shards).run(); }

}  // namespace raven::coordinator
