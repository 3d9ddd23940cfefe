// The IDX importer (MNIST's format, what `raven dataset import` and the coordinator's upload path
// read from a requester's files): two u16-length-prefixed pieces, images and labels, written to a
// scratch directory (raw, or gzipped when they start with 1f 8b, as the importer detects). The
// header reader, one split, and a whole import (both splits from the same pair) when the first
// byte is odd.
#include "FuzzTarget.h"
#include "data/IdxImporter.h"

using namespace raven;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Reader in(data, size);
    const std::uint8_t mode = in.u8();
    const QString images = fuzz::Scratch::instance().write("images-idx", in.piece());
    const QString labels = fuzz::Scratch::instance().write("labels-idx", in.rest());
    fuzz::expectErrors([&] { data::readIdxHeader(images); });
    if (mode & 1) {
        fuzz::expectErrors([&] { data::importIdx({images, labels, images, labels}, {}); });
    } else {
        fuzz::expectErrors([&] {
            const data::Samples samples = data::readIdxSamples(images, labels);
            RAVEN_ASSERT(
                static_cast<std::int64_t>(samples.allFeatures().size()) == samples.count() * samples.featureSize(),
                "one feature block per sample");
        });
    }
    return 0;
}
