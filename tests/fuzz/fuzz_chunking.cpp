// Envelopes and chunk assembly: a sequence of frames (each a u16-length-prefixed piece) goes
// through decodeFrame; the ContentChunk of every frame that carries one (shard, weights, manifest,
// checkpoint chunks, dataset uploads) goes to a ContentAssembler, as a coordinator, worker or
// requester receiving a content would. A refused chunk drops the transfer (a fresh assembler
// continues). The first byte picks the receiver's bound: the coordinator's for uploads (64 MiB), a
// worker's for shards (256 MiB) or the assembler's default (4 GiB, the requester's checkpoints).
#include "FuzzTarget.h"
#include "QuietProtobuf.h"
#include "protocol/Chunking.h"
#include "protocol/Framing.h"

using namespace raven;

namespace {

const wire::ContentChunk* chunkOf(const wire::Envelope& e) {
    switch (e.payload_case()) {
        case wire::Envelope::kShardChunk:
            return &e.shard_chunk().content();
        case wire::Envelope::kWeightsChunk:
            return &e.weights_chunk().content();
        case wire::Envelope::kManifestChunk:
            return &e.manifest_chunk().content();
        case wire::Envelope::kUploadShard:
            return &e.upload_shard().content();
        case wire::Envelope::kCheckpointChunk:
            return &e.checkpoint_chunk().content();
        case wire::Envelope::kSubmitResult:
            return &e.submit_result().gradient().content();
        default:
            return nullptr;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Reader in(data, size);
    static const std::uint64_t bounds[] = {64ull << 20, 256ull << 20, 1ull << 32};
    const std::uint64_t bound = bounds[in.u8() % 3];
    protocol::ContentAssembler assembler(bound);
    while (!in.done()) {
        const protocol::DecodedFrame frame = protocol::decodeFrame(in.piece());
        if (!frame.ok) continue;
        const wire::ContentChunk* chunk = chunkOf(frame.envelope);
        if (!chunk) continue;
        try {
            assembler.add(*chunk);
        } catch (const raven::Error&) {
            assembler = protocol::ContentAssembler(bound);
            continue;
        }
        if (assembler.complete()) {
            RAVEN_ASSERT(static_cast<std::uint64_t>(assembler.content().size()) <= bound,
                         "an assembled content stays within the receiver's bound");
            RAVEN_ASSERT(protocol::sha256Hex(assembler.content()) == assembler.sha256(),
                         "an assembled content has the hash it announced");
            assembler = protocol::ContentAssembler(bound);
        }
    }
    return 0;
}
