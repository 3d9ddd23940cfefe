#include "worker/RecordedCompute.h"

#include <QDataStream>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>

#include <chrono>
#include <span>
#include <thread>
#include <unordered_map>

#include "base/Error.h"
#include "checkpoint/Checkpoint.h"
#include "checkpoint/SafeTensors.h"
#include "protocol/Chunking.h"

namespace raven::worker {
namespace {

constexpr char kMagic[8] = {'R', 'A', 'V', 'E', 'N', 'R', 'E', 'C'};
constexpr quint32 kFormatVersion = 1;

// What a record holds besides the parts, in the order it is written.
struct Record {
    QByteArray key;
    double seconds = 0;
    qint64 samples = 0;
    double lossSum = 0;
    qint64 correct = 0;
    double flops = 0;
    std::vector<QByteArray> parts;
};

Record readRecord(const QString& path, const std::string& key) {
    QFile file(path);
    RAVEN_CHECK(file.open(QIODevice::ReadOnly),
                "cannot read the recorded result " + path.toStdString() + ": " + file.errorString().toStdString(),
                "record the run again with raven-worker --record");
    const QByteArray magic = file.read(sizeof kMagic);
    RAVEN_CHECK(magic == QByteArray(kMagic, sizeof kMagic),
                path.toStdString() + " is not a raven-worker recording (no RAVENREC header)",
                "point --replay at a folder written by raven-worker --record");
    QDataStream in(&file);
    in.setVersion(QDataStream::Qt_6_0);
    quint32 version = 0;
    in >> version;
    RAVEN_CHECK(version == kFormatVersion,
                path.toStdString() + " is a recording of format " + std::to_string(version) + "; this worker reads " +
                    std::to_string(kFormatVersion),
                "record the run again with this raven-worker");
    Record r;
    quint32 count = 0;
    in >> r.key >> r.seconds >> r.samples >> r.lossSum >> r.correct >> r.flops >> count;
    RAVEN_CHECK(in.status() == QDataStream::Ok && count > 0 && count < 100000,
                path.toStdString() + " is truncated or damaged", "record the run again with raven-worker --record");
    r.parts.resize(count);
    for (QByteArray& part : r.parts) in >> part;
    RAVEN_CHECK(in.status() == QDataStream::Ok, path.toStdString() + " is truncated or damaged",
                "record the run again with raven-worker --record");
    RAVEN_CHECK(r.key.toStdString() == key,
                path.toStdString() + " records another unit (" + r.key.left(120).toStdString() + ")",
                "the recording folder is damaged: record the run again");
    return r;
}

}  // namespace

std::string recordKey(const wire::WorkUnit& unit) {
    std::string key = unit.job_id() + "/" + std::to_string(unit.model_version()) + "/" + unit.model_spec_sha256() + "/";
    for (int i = 0; i < unit.shard_hashes_size(); ++i) key += (i ? "," : "") + unit.shard_hashes(i);
    return key;
}

RecordedCompute::RecordedCompute(Mode mode, QString dir) : mode_(mode), dir_(QDir(dir).absolutePath()) {
    const std::string where = dir_.toStdString();
    if (mode_ == Mode::Record) {
        RAVEN_CHECK(QDir().mkpath(dir_), "cannot create the recording folder " + where,
                    "pass --record a folder this user can write");
        return;
    }
    RAVEN_CHECK(QFileInfo(dir_).isDir(), "the replay folder " + where + " does not exist",
                "record a run first with raven-worker --record " + where);
    RAVEN_CHECK(!QDir(dir_).entryList({QStringLiteral("*.unit")}, QDir::Files).isEmpty(),
                "the replay folder " + where + " holds no recorded units",
                "record a run first with raven-worker --record " + where);
}

QString RecordedCompute::pathFor(const wire::WorkUnit& unit) const {
    return dir_ + "/" + protocol::sha256Hex(QByteArray::fromStdString(recordKey(unit))) + ".unit";
}

bool RecordedCompute::has(const wire::WorkUnit& unit) const {
    return mode_ == Mode::Record || QFileInfo::exists(pathFor(unit));
}

QString RecordedCompute::missingReason(const wire::WorkUnit& unit) const {
    return QStringLiteral(
               "no recorded result for job %1 version %2 (these shards) in %3: this worker replays a "
               "recorded run (--replay, a benchmark switch) and can only send what was recorded")
        .arg(QString::fromStdString(unit.job_id()))
        .arg(unit.model_version())
        .arg(dir_);
}

ComputedUnit RecordedCompute::compute(UnitComputer& computer, const UnitInputs& inputs) {
    if (mode_ == Mode::Replay) return replay(inputs);
    ComputedUnit done = computer.compute(inputs);
    if (done.error.isEmpty()) store(inputs.unit, done);
    return done;
}

void RecordedCompute::store(const wire::WorkUnit& unit, const ComputedUnit& done) const {
    const QString path = pathFor(unit);
    const QString temporary = path + ".part";
    QFile file(temporary);
    bool ok = file.open(QIODevice::WriteOnly | QIODevice::Truncate) &&
              file.write(kMagic, sizeof kMagic) == qint64(sizeof kMagic);
    if (ok) {
        QDataStream out(&file);
        out.setVersion(QDataStream::Qt_6_0);
        out << kFormatVersion << QByteArray::fromStdString(recordKey(unit)) << done.seconds << qint64(done.samples)
            << done.lossSum << qint64(done.correct) << done.flops << quint32(done.parts.size());
        for (const wire::SubmitResult& part : done.parts) out << QByteArray::fromStdString(part.SerializeAsString());
        ok = out.status() == QDataStream::Ok;
    }
    file.close();
    // Written whole, then renamed: a replaying worker never reads half a record. Not fsynced: a
    // recording lost to a crash is recorded again, and the fsync would slow the recorded run.
    ok = ok && file.error() == QFileDevice::NoError && (!QFile::exists(path) || QFile::remove(path)) &&
         QFile::rename(temporary, path);
    if (!ok) {
        QFile::remove(temporary);
        // The unit's result is still sent; only its replay will be missing, and the replaying worker says so.
        qWarning("raven-worker: cannot record work unit %s in %s (%s): a replay will hand it back", unit.id().c_str(),
                 qPrintable(dir_), qPrintable(file.errorString()));
    }
}

ComputedUnit RecordedCompute::replay(const UnitInputs& inputs) {
    const wire::WorkUnit& unit = inputs.unit;
    ComputedUnit out;
    out.workUnitId = QString::fromStdString(unit.id());
    QElapsedTimer clock;
    clock.start();
    try {
        // What a real worker does with the inputs before its arithmetic, done for real: the spec's
        // hash, each shard checked against the manifest (hashed and decoded once where it entered, as for
        // a computing worker: DecodedShards.h), the version's weights parsed.
        RAVEN_CHECK(inputs.manifest, "work unit " + unit.id() + " came without its dataset's manifest", "");
        RAVEN_CHECK(protocol::sha256Hex(QByteArray::fromStdString(unit.model_spec_json())).toStdString() ==
                        unit.model_spec_sha256(),
                    "work unit " + unit.id() + ": the model spec does not hash to its name " + unit.model_spec_sha256(),
                    "the coordinator sent a damaged unit");
        RAVEN_CHECK(inputs.shards.size() == static_cast<std::size_t>(unit.shard_hashes_size()),
                    "work unit " + unit.id() + ": not all its shards arrived", "");
        const data::Manifest& manifest = *inputs.manifest;
        std::unordered_map<std::string, const data::ShardRef*> refs;
        for (const data::ShardRef& ref : manifest.train.shards) refs.emplace(ref.hash.toStdString(), &ref);
        std::int64_t samples = 0;
        for (int i = 0; i < unit.shard_hashes_size(); ++i) {
            const auto ref = refs.find(unit.shard_hashes(i));
            RAVEN_CHECK(ref != refs.end(),
                        "work unit " + unit.id() + ": shard " + unit.shard_hashes(i).substr(0, 8) +
                            "... is not in the training split of dataset '" + manifest.name + "'",
                        "the coordinator sent an inconsistent unit");
            const DecodedShard& shard = *inputs.shards[static_cast<std::size_t>(i)];
            checkShard(manifest, *ref->second, shard);
            samples += shard.samples.count();
        }
        const std::string weightsKey = unit.job_id() + "/" + std::to_string(unit.model_version());
        if (weightsKey != weightsParsed_) {
            RAVEN_CHECK(inputs.weights, "work unit " + unit.id() + " came without weights", "");
            const auto* bytes = reinterpret_cast<const std::byte*>(inputs.weights->constData());
            const std::string source = "weights of job " + weightsKey;
            Checkpoint::fromSafeTensors(
                SafeTensors::fromBytes(std::span(bytes, static_cast<std::size_t>(inputs.weights->size())), source),
                source);
            weightsParsed_ = weightsKey;
        }

        Record r = readRecord(pathFor(unit), recordKey(unit));
        RAVEN_CHECK(r.samples == samples,
                    "the recording of work unit " + unit.id() + " sums " + std::to_string(r.samples) +
                        " samples but its shards hold " + std::to_string(samples),
                    "the recording folder is damaged: record the run again");
        for (const QByteArray& bytes : r.parts) {
            wire::SubmitResult part;
            RAVEN_CHECK(part.ParseFromArray(bytes.constData(), static_cast<int>(bytes.size())),
                        pathFor(unit).toStdString() + " holds a part that does not parse",
                        "the recording folder is damaged: record the run again");
            part.set_work_unit_id(unit.id());  // the coordinator numbers units as it creates them
            out.wireBytes += static_cast<std::int64_t>(part.ByteSizeLong());
            out.parts.push_back(std::move(part));
        }
        out.samples = r.samples;
        out.lossSum = r.lossSum;
        out.correct = r.correct;
        out.flops = r.flops;
        // The arithmetic's time, as the recorded run measured it (its decoding included, as here).
        const auto left = std::chrono::duration<double>(r.seconds) - std::chrono::nanoseconds(clock.nsecsElapsed());
        if (left.count() > 0) std::this_thread::sleep_for(left);
    } catch (const std::exception& e) {
        out.error = QString::fromUtf8(e.what());
        out.parts.clear();
    }
    out.seconds = static_cast<double>(clock.nsecsElapsed()) / 1e9;
    return out;
}

}  // namespace raven::worker
