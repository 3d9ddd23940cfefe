#pragma once
// UnitComputer: what a worker does with a work unit once its inputs are on hand; the arithmetic side
// of the worker, with no network in it (Worker.h fetches the inputs and submits the result).
//
//   UnitComputer computer("cpu", 0);
//   computer.open();                                   // the device and its speed (on the compute thread)
//   ComputedUnit done = computer.compute({unit, manifest, decodedShards, weightBytes});
//   if (done.error.isEmpty()) for (auto& part : done.parts) send(part);   // SubmitResult chunks
//
//   // Or in two stages, so that one unit's result is encoded while the next one computes (Worker.h):
//   ComputedGradient g = computer.computeGradient(inputs);   // on the compute thread
//   ComputedUnit done = encodeResult(std::move(g));          // on any thread
//
// compute() checks that the spec text hashes to the unit's model_spec_sha256, builds the model (or
// reuses the one built for that spec: a few are kept, least recently used dropped), loads the
// version's weights into it (a safetensors file of parameters and buffers, as nn::toCheckpoint writes
// it; parsed once per job and version), checks the shards (decoded once, by the time they get here:
// DecodedShards.h) against the manifest, concatenates their samples in the unit's order, and computes
// training::computeGradientSums: the summed-loss gradient the coordinator averages. The gradient
// leaves as the unit's encoding (fp32/fp16/bf16, or int8 blocks rounded with the unit's own key,
// protocol::unitRoundingKey), zstd-compressed when the unit asks (protocol::makeSubmitResults).
// A unit with local_steps_unit is a lane of a local-steps round instead: its result is the lane's
// pseudo-gradient (LocalStepsLane.h), computed in one piece (the duty cycle does not pace it).
//
// Threads: one UnitComputer belongs to one thread at a time (the worker's compute thread); the
// Vulkan backend and the models are not shared. compute() never throws: a unit that cannot be
// computed (a spec that does not build, weights of other shapes, a shard of another dataset) comes
// back with `error` set, so the worker hands it back with that reason and keeps serving.
#include <QByteArray>
#include <QString>

#include <list>
#include <memory>
#include <vector>

#include "data/Manifest.h"
#include "protocol/GradientCodec.h"
#include "protocol/raven.pb.h"
#include "worker/DecodedShards.h"
#include "worker/WorkerDevice.h"

namespace raven {
struct Checkpoint;
namespace nn {
class Model;
}
}  // namespace raven

namespace raven::worker {

struct UnitInputs {
    wire::WorkUnit unit;
    std::shared_ptr<const data::Manifest> manifest;  // of unit.dataset_id
    // unit.shard_hashes decoded, in that order (their bytes verified against their hash on the way in)
    std::vector<std::shared_ptr<const DecodedShard>> shards;
    std::shared_ptr<const QByteArray> weights;  // safetensors of (job, model_version)
};

struct ComputedUnit {
    QString workUnitId;
    std::vector<wire::SubmitResult> parts;  // the SubmitResult messages, in order
    std::int64_t samples = 0;
    double lossSum = 0.0;
    std::int64_t correct = 0;
    double flops = 0.0;          // samples * the architecture's training FLOPs per sample
    double seconds = 0.0;        // wall time of the computation (the duty cycle's rests inside it left out)
    std::int64_t wireBytes = 0;  // serialized size of the parts
    QString error;               // set when the unit could not be computed
};

// A unit's gradient before its encoding: everything of the ComputedUnit but its parts, and what
// encodeResult() needs to make them (the encoding and zstd the unit asked for).
struct ComputedGradient {
    ComputedUnit unit;  // parts empty; error set when the unit could not be computed
    protocol::WorkResult result;
    wire::GradientEncoding encoding = wire::GRADIENT_ENCODING_FP32;
    bool zstd = false;
    std::uint64_t roundingKey = 0;  // the unit's, for int8 (protocol::unitRoundingKey)
    bool hashed = true;             // false where the coordinator takes results unhashed
};

// The SubmitResult parts of a computed gradient (encoded, compressed when asked, chunked); its
// seconds grow by the encoding's time. Never throws: a failure comes back as `error`.
ComputedUnit encodeResult(ComputedGradient gradient);

struct DeviceReport {
    wire::Device device;  // with measured_gflops
    QString summary;      // for people: "CPU: ... (2 threads)"
    QString note;         // set when the device asked for could not be used
    QString error;        // set when no device could be opened at all
};

class DutyCycle;

class UnitComputer {
public:
    UnitComputer(QString deviceSelector, int threads);
    ~UnitComputer();
    UnitComputer(const UnitComputer&) = delete;
    UnitComputer& operator=(const UnitComputer&) = delete;

    // Opens the device (once) and measures its speed (once per process). Never throws.
    DeviceReport open();
    // See above; opens the device first when open() was not called. Never throws.
    ComputedUnit compute(const UnitInputs& inputs);
    // compute() without the encoding (encodeResult() does it, on any thread). Never throws.
    ComputedGradient computeGradient(const UnitInputs& inputs);

    // The duty cycle whose rests a capped unit takes between its chunks (PacedGradient.h); null: none.
    void setDutyCycle(DutyCycle* duty) { duty_ = duty; }

    // How many models are kept built (one per spec).
    static constexpr std::size_t kModelsKept = 4;

private:
    struct CachedModel;
    CachedModel& modelFor(const wire::WorkUnit& unit);
    void loadWeights(CachedModel& cached, const UnitInputs& inputs);

    QString selector_;
    int threads_ = 0;
    std::unique_ptr<WorkerDevice> device_;            // declared first: destroyed after the models' tensors
    std::list<std::unique_ptr<CachedModel>> models_;  // most recently used first
    DutyCycle* duty_ = nullptr;
};

// Checks a decoded shard against the manifest's entry for it: its hash, shapes, element type, sample
// count and classes. raven::Error naming the shard otherwise.
void checkShard(const data::Manifest& manifest, const data::ShardRef& ref, const DecodedShard& shard);

}  // namespace raven::worker
