#include "coordinator/JobRunner.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "autograd/Variable.h"
#include "base/Error.h"
#include "checkpoint/Checkpoint.h"
#include "checkpoint/WeightsDelta.h"
#include "coordinator/CrashPoints.h"
#include "coordinator/DurableFile.h"
#include "coordinator/GradientBuffers.h"
#include "coordinator/LearningRateSchedule.h"
#include "coordinator/ResultComparison.h"
#include "coordinator/ResultFile.h"
#include "coordinator/RobustAggregation.h"
#include "coordinator/SpareFiles.h"
#include "data/Batch.h"
#include "data/Sha256.h"
#include "data/Sharding.h"
#include "nn/ModelCheckpoint.h"
#include "tensor/Backend.h"
#include "training/ShardGradient.h"

namespace raven::coordinator {

namespace {

bool allFinite(const NamedArray& array) {
    const std::size_t count = array.data.size() / sizeof(float);
    for (std::size_t i = 0; i < count; ++i) {
        float v;
        std::memcpy(&v, array.data.data() + i * sizeof(float), sizeof(float));
        if (!std::isfinite(v)) return false;
    }
    return true;
}

constexpr int kKeptCheckpoints = 3;

QByteArray toBytes(const std::vector<std::byte>& bytes) {
    return QByteArray(reinterpret_cast<const char*>(bytes.data()), static_cast<qsizetype>(bytes.size()));
}

std::string jobText(ledger::JobId id) { return "job " + std::to_string(id); }

}  // namespace

JobRunner::JobRunner(const ledger::Job& job, JobConfig config, std::string specJson, data::Manifest manifest,
                     const data::ShardStore& shards, JobFiles files, qint64 storeVersion)
    : id_(job.id),
      config_(std::move(config)),
      specJson_(std::move(specJson)),
      manifest_(std::move(manifest)),
      shards_(shards),
      files_(std::move(files)),
      plan_(manifest_, config_.plan) {
    model_ = std::make_unique<nn::Model>(nn::ModelSpec::parse(specJson_, jobText(id_) + " spec"));
    parameterCount_ = training::parameterCount(*model_);
    sum_ = std::make_unique<OrderedGradientSum>(static_cast<std::size_t>(parameterCount_));
    flopsPerSample_ = model_->architecture().trainingFlopsPerSample();
    testEvaluation_ = std::make_shared<TestEvaluation>(specJson_, manifest_, shards_);
    for (const data::ShardRef& s : manifest_.train.shards) samplesByShard_[s.hash] = s.samples;
    files_.create();
    if (QFile::exists(files_.statePath())) {
        const Checkpoint state = Checkpoint::read(files_.statePath().toStdString());
        nn::loadParameters(*model_, state);
        optimizer_ = nn::optimizerFromCheckpoint(state, model_->parameterNames());
        RAVEN_CHECK(optimizer_ != nullptr, files_.statePath().toStdString() + " holds no optimizer state",
                    "the file was replaced by hand; restore it from a v<version>.safetensors checkpoint");
        version_ = state.step;
    } else {
        RAVEN_CHECK(storeVersion == 0,
                    jobText(id_) + " is at model version " + std::to_string(storeVersion) + " but " +
                        files_.statePath().toStdString() + " is missing",
                    "restore the job's directory from a backup, or cancel the job");
        optimizer_ = nn::makeOptimizer(config_.stepOptimizer(), model_->parameterNames());
        version_ = 0;
        writeState();
    }
    weights_[version_] = config_.int8WeightsDown() ? loadPublished() : currentWeights();
    if (staleness() > 0 && version_ > 0) {
        // The current round's lanes start from the version before (LocalStepsConfig.h).
        const QString previous = files_.roundWeightsPath(version_ - 1);
        RAVEN_CHECK(QFile::exists(previous),
                    jobText(id_) + " is at round " + std::to_string(version_) + " with staleness 1 but " +
                        previous.toStdString() + " (the weights its lanes start from) is missing",
                    "restore the job's directory from a backup, or cancel the job");
        weights_[version_ - 1] = readWhole(previous);
    }
    if (staleness() > 0) {
        // A crash after the state file moved and before the old round's file went leaves it behind; one
        // before it moved leaves V's, which the step taken again rewrites. Only V - 1's is needed.
        const QString needed = QFileInfo(files_.roundWeightsPath(version_ - 1)).fileName();
        for (const QString& file : files_.dir().entryList({QStringLiteral("round-weights-*.safetensors")}, QDir::Files))
            if (file != needed) QFile::remove(files_.dir().filePath(file));
    }
}

JobRunner::~JobRunner() = default;

QList<ledger::NewWorkUnit> JobRunner::unitsOfStep(qint64 step, std::int64_t shardsPerUnit) const {
    QList<ledger::NewWorkUnit> units;
    for (const std::vector<data::ShardRef>& cut : training::StepPlan::cut(plan_.shardsOfStep(step), shardsPerUnit)) {
        ledger::NewWorkUnit unit;
        std::int64_t samples = 0;
        for (const data::ShardRef& s : cut) {
            unit.shardHashes << s.hash;
            samples += s.samples;
        }
        unit.flops = std::max<qint64>(1, std::llround(static_cast<double>(samples) * flopsPerSample_));
        units << unit;
    }
    return units;
}

std::int64_t JobRunner::predictionsPerSample() const { return coordinator::predictionsPerSample(manifest_); }

std::int64_t JobRunner::samplesOf(const QStringList& shardHashes) const {
    std::int64_t n = 0;
    for (const QString& hash : shardHashes) {
        const auto it = samplesByShard_.find(hash);
        RAVEN_CHECK(it != samplesByShard_.end(),
                    jobText(id_) + ": shard " + hash.toStdString() + " is not in its dataset", "");
        n += it->second;
    }
    return n;
}

const QByteArray* JobRunner::weights(qint64 version) const {
    const auto it = weights_.find(version);
    return it == weights_.end() ? nullptr : &it->second;
}

const JobRunner::WeightsDelta* JobRunner::weightsDelta(qint64 version) const {
    const auto it = deltas_.find(version);
    return it == deltas_.end() ? nullptr : &it->second;
}

QByteArray JobRunner::loadPublished() const {
    // A crash after P(V + 1) was written and before the state file moved to V + 1 leaves it behind:
    // the step is taken again and writes the same bytes, so it goes.
    const QString current = QFileInfo(files_.publishedWeightsPath(version_)).fileName();
    for (const QString& file : files_.dir().entryList({QStringLiteral("published-*.safetensors")}, QDir::Files))
        if (file != current) QFile::remove(files_.dir().filePath(file));
    if (QFile::exists(files_.publishedWeightsPath(version_))) return readWhole(files_.publishedWeightsPath(version_));
    RAVEN_CHECK(version_ == 0,
                jobText(id_) + " sends its weights down as int8 and is at version " + std::to_string(version_) +
                    " but " + files_.publishedWeightsPath(version_).toStdString() +
                    " (the weights its workers compute on) is missing",
                "restore the job's directory from a backup, or cancel the job");
    return currentWeights();  // P(0): the initial weights, whole
}

QByteArray JobRunner::currentWeights() const {
    Checkpoint weights = nn::toCheckpoint(*model_);
    weights.step = version_;
    return toBytes(weights.toSafeTensors().toBytes());
}

void JobRunner::writeState() {
    writeDurably(files_.statePath(), toBytes(nn::toCheckpoint(*model_, optimizer_.get()).toSafeTensors().toBytes()));
}

std::pair<QString, QByteArrayList> JobRunner::resultFile(const JobFiles& files, ledger::WorkUnitId unit,
                                                         ledger::ContributorId contributor,
                                                         const protocol::WorkResult& result, const QString& sha256) {
    return {files.resultPath(unit), ResultFile::pieces(contributor, result, sha256)};
}

void JobRunner::saveResult(ledger::WorkUnitId unit, ledger::ContributorId contributor,
                           const protocol::WorkResult& result) {
    writeDurably({resultFile(files_, unit, contributor, result, QString())},
                 [] { crashPoint(CrashPoint::ResultGradientWritten); });
    keepResult(unit, contributor, protocol::WorkResult(result));
}

void JobRunner::keepResult(ledger::WorkUnitId unit, ledger::ContributorId contributor, protocol::WorkResult&& result) {
    StoredResult& kept = kept_[unit];
    kept.gradient = std::move(result.gradient);
    kept.samples = static_cast<std::int64_t>(result.sampleCount);
    kept.lossSum = result.loss;
    kept.correct = static_cast<std::int64_t>(result.correct);
    kept.contributor = contributor;
}

void JobRunner::discardResult(ledger::WorkUnitId unit) {
    kept_.erase(unit);
    files_.removeResult(unit);
}

bool JobRunner::hasResult(ledger::WorkUnitId unit) const {
    return QFile::exists(files_.resultPath(unit)) ||
           (QFile::exists(files_.gradientPath(unit)) && QFile::exists(files_.resultInfoPath(unit)));
}

StoredResult JobRunner::takeResult(ledger::WorkUnitId unit) {
    if (auto it = kept_.find(unit); it != kept_.end()) {
        // Handed over, not copied: a result is summed once, by the step that applies it.
        StoredResult r = std::move(it->second);
        kept_.erase(it);
        return r;
    }
    return loadResult(unit);
}

StoredResult JobRunner::loadResult(ledger::WorkUnitId unit) const {
    if (QFile::exists(files_.resultPath(unit)) || !QFile::exists(files_.gradientPath(unit)))
        return ResultFile::read(files_.resultPath(unit), parameterCount_);
    // The two-file layout of a coordinator before this one, stopped in the middle of a step.
    const QByteArray values = readWhole(files_.gradientPath(unit));
    RAVEN_CHECK(values.size() == static_cast<qsizetype>(parameterCount_) * static_cast<qsizetype>(sizeof(float)),
                files_.gradientPath(unit).toStdString() + " does not hold " + std::to_string(parameterCount_) +
                    " float32 values",
                "the file was damaged; the coordinator cannot apply this step");
    const QJsonObject info = QJsonDocument::fromJson(readWhole(files_.resultInfoPath(unit))).object();
    StoredResult r;
    r.gradient.resize(static_cast<std::size_t>(parameterCount_));
    std::memcpy(r.gradient.data(), values.constData(), static_cast<std::size_t>(values.size()));
    r.samples = info.value("samples").toInteger();
    r.lossSum = info.value("loss_sum").toDouble();
    r.correct = info.value("correct").toInteger();
    r.contributor = info.value("contributor").toInteger();
    return r;
}

void JobRunner::sumAccepted(const QList<ledger::WorkUnit>& units) {
    if (stepping_) return;  // the step took the sum; the next one starts at finishStep()
    // A robust combination needs every unit of the step at once: the results stay kept until then.
    if (config_.aggregation != Aggregation::Mean) return;
    QList<ledger::WorkUnit> ofStep;
    for (const ledger::WorkUnit& unit : units)
        if (unit.modelVersion == version_) ofStep << unit;
    sum_->advance(ofStep, [this](ledger::WorkUnitId unit) { return takeResult(unit); });
}

void JobRunner::removeResultsExcept(const QList<ledger::WorkUnitId>& keep) {
    // At start-up no write is under way: every temporary is a crash's leftover, and every spare
    // (SpareFiles.h) one of the process before, maybe torn.
    const QDir dir(files_.resultsDir());
    for (const QString& file : dir.entryList({QStringLiteral("*.partial"), QStringLiteral("*.spare")}, QDir::Files))
        QFile::remove(dir.filePath(file));
    for (const QString& path : releaseResultsExcept(keep)) QFile::remove(path);
}

QStringList JobRunner::releaseResultsExcept(const QList<ledger::WorkUnitId>& keep) {
    for (auto it = kept_.begin(); it != kept_.end();) it = keep.contains(it->first) ? std::next(it) : kept_.erase(it);
    const QDir dir(files_.resultsDir());
    QStringList doomed;
    // A kept unit's temporary is a result being written now (GroupCommit), not a leftover; a spare
    // belongs to the engine's SpareFiles, which may be writing a result over it now.
    for (const QString& file : dir.entryList(QDir::Files)) {
        if (file.endsWith(QLatin1String(SpareFiles::kSuffix))) continue;
        bool ok = false;
        const qint64 unit = file.section('.', 0, 0).toLongLong(&ok);
        if (!ok || !keep.contains(unit)) doomed << dir.filePath(file);
    }
    return doomed;
}

StepReport JobRunner::applyStep(const QList<ledger::WorkUnit>& units) {
    StepWork work = prepareStep(units);
    return finishStep(computeStep(work));
}

StepWork JobRunner::prepareStep(const QList<ledger::WorkUnit>& units) {
    RAVEN_CHECK(!planDone(), jobText(id_) + " has taken all its " + std::to_string(plan_.totalSteps()) + " steps", "");
    RAVEN_CHECK(!stepping_, jobText(id_) + ": step " + std::to_string(version_) + " is already being applied", "");
    StepWork work;
    work.job = id_;
    work.version = version_;
    StepReport& report = work.report;
    for (const ledger::WorkUnit& unit : units)  // id order: the sum is the same whatever order results came in
        RAVEN_CHECK(unit.state == ledger::WorkUnitState::Done && unit.modelVersion == version_,
                    jobText(id_) + ": work unit " + std::to_string(unit.id) + " is not a done unit of step " +
                        std::to_string(version_),
                    "");
    StepTotals totals;
    if (config_.aggregation == Aggregation::Mean) {
        // What the running sum lacks (all of it after a restart, else the last results) is added now.
        sum_->advance(units, [this](ledger::WorkUnitId unit) { return takeResult(unit); });
        RAVEN_CHECK(sum_->summed() == static_cast<std::size_t>(units.size()),
                    jobText(id_) + ": " + std::to_string(sum_->summed()) + " of the " + std::to_string(units.size()) +
                        " results of step " + std::to_string(version_) + " were summed",
                    "");
        totals = {sum_->samples(), sum_->lossSum(), sum_->correct()};
        report.contributors = sum_->contributors();
        work.gradientSum = sum_->takeGradient();
    } else {
        totals = takeForRobustCombination(units, work);
    }
    describeStep(totals, units.size(), work);
    work.model = model_;
    work.optimizer = optimizer_;
    stepping_ = true;
    return work;
}

void JobRunner::describeStep(const StepTotals& totals, std::int64_t unitCount, StepWork& work) const {
    StepReport& report = work.report;
    report.samples = totals.samples;
    RAVEN_CHECK(report.samples == plan_.samplesOfStep(version_),
                jobText(id_) + ": the results of step " + std::to_string(version_) + " cover " +
                    std::to_string(report.samples) + " samples instead of " +
                    std::to_string(plan_.samplesOfStep(version_)),
                "");
    // The schedule is a pure function of the step, so a replayed step after a crash uses the same rate.
    report.learningRate = config_.localSteps ? config_.localSteps->outerLearningRate
                                             : learningRateAt(config_.hyperparameters.lr_schedule(),
                                                              config_.optimizer.lr, version_, plan_.totalSteps());
    // A round's outer step averages its lanes' pseudo-gradients (LocalStepsConfig.h); a step averages
    // its samples' gradients.
    work.divisor = config_.localSteps ? static_cast<std::int64_t>(unitCount) : report.samples;
    report.trainLoss = totals.lossSum / static_cast<double>(report.samples);
    report.accuracy =
        static_cast<double>(totals.correct) / static_cast<double>(report.samples * predictionsPerSample());
    if (rewindable()) work.archive = RewindArchive(files_);
    work.statePath = files_.statePath();
    work.weightsAhead = leasesAhead();
    if (staleness() > 0) {
        work.roundWeights = weights_.at(version_);
        work.roundWeightsPath = files_.roundWeightsPath(version_);
        if (version_ > 0) work.oldRoundWeightsPath = files_.roundWeightsPath(version_ - 1);
    }
    if (config_.int8WeightsDown()) {
        work.publishedBase = weights_.at(version_);
        work.publishKey = protocol::weightsDeltaRoundingKey(config_.modelSpecSha256.toStdString(),
                                                            static_cast<std::uint64_t>(version_ + 1));
        work.publishedPath = files_.publishedWeightsPath(version_ + 1);
        work.oldPublishedPath = files_.publishedWeightsPath(version_);
    }
}

JobRunner::StepTotals JobRunner::takeForRobustCombination(const QList<ledger::WorkUnit>& units, StepWork& work) {
    // Every result of the step, in id order (kept in memory, or read back from its durable file
    // after a restart); computeStep() combines them off the event loop, then frees them.
    StepTotals totals;
    work.robust = config_.robust;
    work.robustInputs.reserve(static_cast<std::size_t>(units.size()));
    for (const ledger::WorkUnit& unit : units) {
        const StoredResult& result = work.robustInputs.emplace_back(unit.id, takeResult(unit.id)).second;
        totals.samples += result.samples;
        totals.lossSum += result.lossSum;
        totals.correct += result.correct;
        if (!work.report.contributors.contains(result.contributor)) work.report.contributors << result.contributor;
    }
    return totals;
}

void JobRunner::combineRobustly(StepWork& work) {
    std::vector<std::pair<ledger::WorkUnitId, const StoredResult*>> results;
    for (const auto& [unit, result] : work.robustInputs) results.emplace_back(unit, &result);
    RobustStep step = centredClip(results, *work.robust);
    work.robustInputs.clear();
    work.robustInputs.shrink_to_fit();
    work.gradientSum = std::move(step.gradientSum);
    StepReport::Robust robust;
    robust.medianDistance = step.medianDistance;
    robust.radius = step.radius;
    robust.clippedUnits = step.clippedUnits();
    for (const UnitVerdict& verdict : step.units) {
        robust.judged << std::pair(verdict.contributor, verdict.outlier);
        if (verdict.outlier) {
            robust.outlierUnits << verdict.unit;
            robust.outlierContributors << verdict.contributor;
        }
    }
    work.report.robust = robust;
}

bool JobRunner::leasesAhead() const {
    return staleness() == 0 && !config_.int8WeightsDown() && !rewindable() && version_ + 1 < totalSteps();
}

void JobRunner::publishAhead(QByteArray weights) {
    RAVEN_CHECK(stepping_ && leasesAhead(), jobText(id_) + ": weights published ahead of a step not being applied", "");
    weights_[version_ + 1] = std::move(weights);
    aheadWeights_ = true;
}

std::optional<StepWork> JobRunner::takeStepAhead(const QList<ledger::WorkUnit>& units, const LastResult& result) {
    // Only the plain case: the other results are in the running sum, so the sum's last addition is
    // this one (a step whose last result is not its last unit's is applied as usual).
    if (stepping_ || !leasesAhead() || config_.aggregation != Aggregation::Mean || units.isEmpty()) return std::nullopt;
    if (parameterCount_ > kMaxParametersAhead) return std::nullopt;
    if (units.last().id != result.unit || units.last().state == ledger::WorkUnitState::Done) return std::nullopt;
    if (sum_->summed() + 1 != static_cast<std::size_t>(units.size())) return std::nullopt;
    for (const ledger::WorkUnit& u : units)
        if (u.modelVersion != version_) return std::nullopt;
    if (result.gradient.size() != static_cast<std::size_t>(parameterCount_)) return std::nullopt;
    StepTotals totals{sum_->samples() + result.samples, sum_->lossSum() + result.lossSum,
                      sum_->correct() + result.correct};
    if (totals.samples != plan_.samplesOfStep(version_)) return std::nullopt;  // prepareStep() will say why

    StepWork work;
    work.job = id_;
    work.version = version_;
    work.report.contributors = sum_->contributors();
    if (!work.report.contributors.contains(result.contributor)) work.report.contributors << result.contributor;
    // The same additions as OrderedGradientSum::advance() (sum[i] += g[i], the sum of the units before
    // in id order), into memory of the work's own.
    const std::vector<float>& before = sum_->gradient();
    work.gradientSum = GradientBuffers::shared().take(before.size());
    work.gradientSum.resize(before.size());
    for (std::size_t i = 0; i < before.size(); ++i) work.gradientSum[i] = before[i] + result.gradient[i];
    describeStep(totals, units.size(), work);
    work.modelOfV = model_;
    work.optimizerOfV = optimizer_;
    work.model = std::move(spareModel_);
    work.optimizer = std::move(spareOptimizer_);
    return work;
}

void JobRunner::copyStateAhead(StepWork& work) {
    RAVEN_CHECK(work.modelOfV && work.optimizerOfV, "a step taken ahead has no model to copy", "");
    if (!work.model) work.model = std::make_shared<nn::Model>(work.modelOfV->spec());
    if (!work.optimizer)
        work.optimizer = nn::makeOptimizer(work.optimizerOfV->config(), work.optimizerOfV->parameterNames());
    work.model->loadStateDict(work.modelOfV->stateDict());
    std::map<std::string, raven::Tensor> stateOfV;
    for (const auto& [name, value] : work.optimizerOfV->state()) stateOfV.emplace(name, value);
    work.optimizer->loadState(stateOfV, work.optimizerOfV->stepCount());
    work.modelOfV.reset();
    work.optimizerOfV.reset();
}

void JobRunner::adoptStepAhead(StepWork& work, const QList<ledger::WorkUnit>& units, ledger::WorkUnitId unit) {
    RAVEN_CHECK(!stepping_ && work.version == version_ && work.model && work.optimizer && !units.isEmpty() &&
                    units.last().id == unit && sum_->summed() + 1 == static_cast<std::size_t>(units.size()),
                jobText(id_) + ": a step taken ahead does not continue step " + std::to_string(version_), "");
    for (const ledger::WorkUnit& u : units)
        RAVEN_CHECK(u.state == ledger::WorkUnitState::Done && u.modelVersion == version_,
                    jobText(id_) + ": work unit " + std::to_string(u.id) + " is not a done unit of step " +
                        std::to_string(version_),
                    "");
    // The step's results are in the work's sum: the running sum starts again, the last result goes.
    sum_->reset();
    if (auto it = kept_.find(unit); it != kept_.end()) {
        GradientBuffers::shared().giveBack(std::move(it->second.gradient));
        kept_.erase(it);
    }
    spareModel_ = std::exchange(model_, work.model);
    spareOptimizer_ = std::exchange(optimizer_, work.optimizer);
    stepping_ = true;
}

StepProduct JobRunner::computeStep(StepWork& work, const std::function<void(const QByteArray&)>& weightsReady) {
    StepProduct product = computeWeights(work);
    if (work.weightsAhead && weightsReady) weightsReady(product.weights);
    writeStepState(work);
    return product;
}

StepProduct JobRunner::computeWeights(StepWork& work) {
    nn::Model& model = *work.model;
    if (work.robust) combineRobustly(work);
    // The sum of the step's gradients in unit id order as one part (training::averageSum): the same
    // bits as averaging the results one by one.
    // Never a non-finite step: every result was finite and plausible on its own, so a step that
    // overflows is the job's own doing (learning rate, model); it fails with the reason instead of
    // making every later result unacceptable. The state file is untouched until it is written below.
    // The mean is (+0.0 + sum) x (1 / divisor), divisor >= 1: finite exactly where the sum is, which
    // is checked where it lies instead of copied back out of the mean's tensors.
    RAVEN_CHECK(
        std::all_of(work.gradientSum.begin(), work.gradientSum.end(), [](float v) { return std::isfinite(v); }),
        jobText(work.job) + ": the averaged gradient of step " + std::to_string(work.version) + " is not finite",
        "lower the learning rate or enable gradient clipping, then submit the job again");
    const std::vector<Tensor> mean = training::averageSum(model, work.gradientSum, work.divisor);
    work.optimizer->setLearningRate(work.report.learningRate);
    work.optimizer->step(model.parameterTensors(), mean);
    StepProduct product;
    product.report = work.report;
    product.report.step = work.version + 1;
    Checkpoint weights = nn::toCheckpoint(model);
    weights.step = work.version + 1;
    // The parameters are checked in the host copy the weights are served from, not copied out again.
    const std::vector<std::string> names = model.parameterNames();
    for (const NamedArray& array : weights.parameters.arrays())
        if (array.dtype == safetensors::DType::F32 && std::find(names.begin(), names.end(), array.name) != names.end())
            RAVEN_CHECK(allFinite(array),
                        jobText(work.job) + ": step " + std::to_string(work.version + 1) +
                            " made the weights non-finite (training diverged)",
                        "lower the learning rate or enable gradient clipping, then submit the job again");
    if (work.publishedBase.isEmpty()) {
        product.weights = toBytes(weights.toSafeTensors().toBytes());
    } else {
        // P(V + 1) is durable before the state file says V + 1, so a restart finds the weights its
        // workers compute on; P(V) goes once no state file can need it.
        const PublishedStep next =
            publishWeights(std::span(reinterpret_cast<const std::byte*>(work.publishedBase.constData()),
                                     static_cast<std::size_t>(work.publishedBase.size())),
                           weights, work.publishKey);
        product.weights = toBytes(next.published);
        product.weightsDelta = toBytes(next.delta);
        product.weightsSha256 = data::sha256Hex(product.weights).toStdString();
        writeDurably(work.publishedPath, product.weights);
        crashPoint(CrashPoint::PublishedWritten);
    }
    return product;
}

void JobRunner::writeStepState(StepWork& work) {
    const nn::Model& model = *work.model;
    // A stale job: V's weights are durable before the state file says V + 1, so that whichever file
    // a crash leaves, the weights the current round's lanes start from are on disk; V - 1's go only
    // once no state file can need them.
    if (work.archive) work.archive->keepState(work.version);
    if (!work.roundWeightsPath.isEmpty()) {
        writeDurably(work.roundWeightsPath, work.roundWeights);
        crashPoint(CrashPoint::RoundWeightsWritten);
    }
    writeDurably(work.statePath, toBytes(nn::toCheckpoint(model, work.optimizer.get()).toSafeTensors().toBytes()));
    if (!work.oldRoundWeightsPath.isEmpty()) QFile::remove(work.oldRoundWeightsPath);
    if (!work.oldPublishedPath.isEmpty()) QFile::remove(work.oldPublishedPath);
}

StepReport JobRunner::finishStep(StepProduct&& product) {
    RAVEN_CHECK(stepping_ && product.report.step == version_ + 1, jobText(id_) + ": a step finished that was not begun",
                "");
    stepping_ = false;
    aheadWeights_ = false;
    if (product.model) {  // a rewind recomputed the model: its own replaces this one
        model_ = std::move(product.model);
        optimizer_ = std::move(product.optimizer);
    }
    version_ = product.report.step;
    weights_[version_] = std::move(product.weights);
    while (weights_.size() > 2) weights_.erase(weights_.begin());
    // The deltas of the versions served (a stale job's lanes compute on the one before).
    if (!product.weightsDelta.isEmpty())
        deltas_[version_] = {version_ - 1, std::move(product.weightsDelta), std::move(product.weightsSha256)};
    while (!deltas_.empty() && deltas_.begin()->first < version_ - 1) deltas_.erase(deltas_.begin());
    return product.report;
}

void JobRunner::adoptRewound(StepProduct&& product) {
    RAVEN_CHECK(!stepping_ && product.model && product.report.step == version_,
                jobText(id_) + ": a rewind of version " + std::to_string(product.report.step) +
                    " cannot replace version " + std::to_string(version_),
                "");
    model_ = std::move(product.model);
    optimizer_ = std::move(product.optimizer);
    weights_[version_] = std::move(product.weights);
}

bool JobRunner::rewindable() const {
    // A rewind replays on the states' weights W; an int8-down job's workers computed on P, whose
    // lineage it does not replay.
    return config_.replaysResults() && !config_.localSteps && !config_.int8WeightsDown();
}

std::optional<nn::EvalResult> JobRunner::evaluate() { return testEvaluation_->evaluate(weights_.at(version_)); }

QString JobRunner::writeCheckpoint() {
    const QString path = files_.checkpointPath(version_);
    writeDurably(path, toBytes(nn::toCheckpoint(*model_, optimizer_.get()).toSafeTensors().toBytes()));
    crashPoint(CrashPoint::CheckpointWritten);
    QList<qint64> versions = files_.checkpointVersions();
    while (versions.size() > kKeptCheckpoints) QFile::remove(files_.checkpointPath(versions.takeFirst()));
    return path;
}

}  // namespace raven::coordinator
