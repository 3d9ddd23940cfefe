// The dataset manifest parser (what a worker reads from a coordinator, and a coordinator from a
// requester's upload): any bytes give a manifest or a raven::Error; one that parses must survive
// being written again (the id is computed from the content, so a round trip must keep it).
#include "FuzzTarget.h"
#include "data/Manifest.h"

using namespace raven;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const QByteArray bytes(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    data::Manifest manifest;
    try {
        manifest = data::Manifest::fromBytes(bytes, "fuzz manifest");
    } catch (const raven::Error&) {
        return 0;
    }
    const data::Manifest again = data::Manifest::fromBytes(manifest.toBytes(), "fuzz manifest (written again)");
    RAVEN_ASSERT(again == manifest, "a manifest reads back equal after writing");
    return 0;
}
