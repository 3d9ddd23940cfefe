// The safetensors reader (weights from a coordinator, checkpoints a requester loads): any bytes must
// give tensors or a raven::Error. A file that reads must convert to float32, and what Raven writes
// from it must read back equal.
#include "FuzzTarget.h"
#include "checkpoint/SafeTensors.h"

using namespace raven;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    SafeTensors tensors;
    try {
        tensors = SafeTensors::fromBytes(bytes, "fuzz.safetensors");
    } catch (const raven::Error&) {
        return 0;
    }
    for (const NamedArray& array : tensors.arrays()) {
        const std::vector<float> values = array.toFloat32();
        RAVEN_ASSERT(static_cast<std::int64_t>(values.size()) == array.elementCount(), "one float per element");
    }
    const SafeTensors again = SafeTensors::fromBytes(tensors.toBytes(), "fuzz.safetensors (written again)");
    RAVEN_ASSERT(again.arrays().size() == tensors.arrays().size() && again.metadata == tensors.metadata,
                 "what Raven writes reads back equal");
    for (std::size_t i = 0; i < again.arrays().size(); ++i)
        RAVEN_ASSERT(again.arrays()[i].name == tensors.arrays()[i].name &&
                         again.arrays()[i].shape == tensors.arrays()[i].shape &&
                         again.arrays()[i].data == tensors.arrays()[i].data,
                     "what Raven writes reads back equal");
    return 0;
}
