// The gradient codec on the coordinator's side: the SubmitResult parts of one work unit (each a
// u16-length-prefixed protobuf message) go to a ResultAssembler for a model of 0..4095
// parameters (the first two bytes); a refused part drops the result. Then the raw decoder on its
// own: decodeGradientValues over a piece, an encoding byte and an element count.
#include <cmath>

#include "FuzzTarget.h"
#include "QuietProtobuf.h"
#include "protocol/GradientCodec.h"

using namespace raven;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Reader in(data, size);
    const std::uint64_t parameters = in.u16() % 4096;
    // 0..3, 4 (unknown) and 5 standing for int8 blocks (110).
    const std::uint8_t pick = in.u8() % 6;
    const auto encoding = pick == 5 ? wire::GRADIENT_ENCODING_INT8_BLOCK : static_cast<wire::GradientEncoding>(pick);
    const std::uint64_t count = in.u16();
    const QByteArray values = in.piece();
    fuzz::expectErrors([&] {
        const std::vector<float> decoded = protocol::decodeGradientValues(values, encoding, count);
        RAVEN_ASSERT(decoded.size() == count, "decodeGradientValues returns the element count it checked");
        if (encoding == wire::GRADIENT_ENCODING_INT8_BLOCK)
            for (float v : decoded) RAVEN_ASSERT(std::isfinite(v), "int8 blocks decode to finite values only");
    });

    protocol::ResultAssembler assembler(parameters);
    while (!in.done()) {
        const QByteArray piece = in.piece();
        wire::SubmitResult part;
        if (!part.ParseFromArray(piece.constData(), static_cast<int>(piece.size()))) continue;
        try {
            assembler.add(part);
        } catch (const raven::Error&) {
            assembler = protocol::ResultAssembler(parameters);
            continue;
        }
        if (assembler.complete()) {
            RAVEN_ASSERT(assembler.result().gradient.size() == parameters,
                         "an assembled gradient has one value per parameter");
            assembler = protocol::ResultAssembler(parameters);
        }
    }
    return 0;
}
