// The NumPy importer: two u16-length-prefixed pieces, x and y (.npy files), written to a scratch
// directory; readNpy on x, then importNpy(x, y) with the test fraction the first byte picks.
#include "FuzzTarget.h"
#include "data/NpyImporter.h"

using namespace raven;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Reader in(data, size);
    const std::uint8_t mode = in.u8();
    const QString x = fuzz::Scratch::instance().write("x.npy", in.piece());
    const QString y = fuzz::Scratch::instance().write("y.npy", in.rest());
    fuzz::expectErrors([&] {
        const data::NpyArray a = data::readNpy(x);
        for (std::int64_t i = 0; i < std::min<std::int64_t>(a.count(), 64); ++i) (void)a.at(i);
    });
    data::NpyImportOptions options;
    options.testFraction = (mode % 4) * 0.25;  // 0, 0.25, 0.5, 0.75
    fuzz::expectErrors([&] { data::importNpy(x, y, options); });
    return 0;
}
