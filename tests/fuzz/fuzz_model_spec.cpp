// The model spec parser and the layer registry: JSON text a requester uploads, parsed
// (ModelSpec::parse) and built into an Architecture (every layer's shapes, parameters and FLOPs)
// as the coordinator does before it accepts a spec. Nothing here allocates tensors.
#include "FuzzTarget.h"
#include "nn/Architecture.h"

using namespace raven;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string json(reinterpret_cast<const char*>(data), size);
    fuzz::expectErrors([&] {
        const nn::Architecture arch(nn::ModelSpec::parse(json, "fuzz.json"));
        RAVEN_ASSERT(arch.parameterCount() >= 0, "a parameter count is never negative");
        (void)arch.forwardFlopsPerSample();
        (void)arch.summary();
    });
    return 0;
}
