// Writes the seed corpus of every fuzz target with Raven's own writers (encodeFrame, splitContent,
// makeSubmitResults, SafeTensors, publishDataset) and the test suites' fixtures (IDX and .npy):
//
//   cmake --build build/ci --target fuzz_corpus_writer
//   build/ci/tests/fuzz/fuzz_corpus_writer tests/fuzz/corpus .
//
// Each seed is small (a few KB at most) and valid, so that mutations start from inputs that reach
// deep into each parser. Regression inputs (regress-*) are added by hand next to them.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <cstdio>

#include "FuzzTarget.h"
#include "checkpoint/SafeTensors.h"
#include "data/Fixtures.h"
#include "data/Manifest.h"
#include "data/NpyImporter.h"
#include "data/ShardStore.h"
#include "data/Sharding.h"
#include "protocol/Chunking.h"
#include "protocol/Framing.h"
#include "protocol/GradientCodec.h"

using namespace raven;

namespace {

QDir root;

void put(const char* target, const char* name, const QByteArray& bytes) {
    root.mkpath(target);
    QFile f(root.filePath(QString(target) + "/" + name));
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(bytes) != bytes.size()) {
        std::fprintf(stderr, "cannot write %s/%s\n", target, name);
        std::exit(1);
    }
}

QByteArray frame(const wire::Envelope& e) { return protocol::encodeFrame(e); }

QByteArray someContent(int n, int stride) {
    QByteArray c;
    for (int i = 0; i < n; ++i) c.append(static_cast<char>((i * stride) % 251));
    return c;
}

void frames() {
    wire::Envelope hello;
    hello.set_request_id(1);
    hello.mutable_hello()->set_role(wire::ROLE_CONTRIBUTOR);
    hello.mutable_hello()->set_protocol_version(1);
    hello.mutable_hello()->set_min_protocol_version(1);
    hello.mutable_hello()->set_software_version("0.1.0");
    hello.mutable_hello()->set_peer_name("fuzz-peer");
    put("frame", "hello", frame(hello));

    wire::Envelope auth;
    auth.set_request_id(2);
    auth.mutable_authenticate()->set_api_key("rk_0123456789abcdef");
    put("frame", "authenticate", frame(auth));

    wire::Envelope spec;
    spec.set_request_id(3);
    spec.mutable_upload_model_spec()->set_name("mlp");
    spec.mutable_upload_model_spec()->set_spec_json(
        R"({"input": {"shape": [4]}, "layers": [{"name": "fc", "kind": "linear", "out": 2}]})");
    put("frame", "upload_model_spec", frame(spec));

    wire::Envelope error = protocol::makeError(wire::ERROR_CODE_MALFORMED, "bad", "send a good one", 4);
    put("frame", "error", frame(error));

    wire::Envelope result;
    result.set_request_id(5);
    *result.mutable_submit_result() = protocol::makeSubmitResults({"unit-1", {1.0f, -2.0f, 0.5f}, 8, 1.25, 3, 10},
                                                                  wire::GRADIENT_ENCODING_FP16, false)
                                          .front();
    put("frame", "submit_result", frame(result));

    wire::Envelope lease;
    lease.set_request_id(6);
    lease.mutable_lease_request();
    put("frame", "lease_request", frame(lease));
}

void chunking() {
    // One transfer per seed: the mode byte (bound), then each chunk's envelope as a piece.
    auto transfer = [](const char* name, std::uint8_t mode, const QByteArray& content, bool zstd, int chunkBytes,
                       int kind) {
        QByteArray seed(1, static_cast<char>(mode));
        for (const wire::ContentChunk& chunk : protocol::splitContent(content, zstd, chunkBytes)) {
            wire::Envelope e;
            e.set_request_id(7);
            switch (kind) {
                case 0:
                    *e.mutable_upload_shard()->mutable_content() = chunk;
                    e.mutable_upload_shard()->set_dataset_id("ds");
                    break;
                case 1:
                    *e.mutable_shard_chunk()->mutable_content() = chunk;
                    break;
                case 2:
                    *e.mutable_weights_chunk()->mutable_content() = chunk;
                    e.mutable_weights_chunk()->set_job_id("job");
                    break;
                default:
                    *e.mutable_checkpoint_chunk()->mutable_content() = chunk;
                    break;
            }
            fuzz::appendPiece(seed, frame(e));
        }
        put("chunking", name, seed);
    };
    transfer("upload_plain", 0, someContent(300, 7), false, 128, 0);
    transfer("upload_zstd", 0, someContent(2000, 1), true, 64, 0);
    transfer("shard_zstd", 1, someContent(900, 3), true, 100, 1);
    transfer("weights_plain", 1, someContent(200, 13), false, 200, 2);
    transfer("checkpoint_zstd", 2, someContent(1500, 5), true, 256, 3);
    transfer("empty", 0, QByteArray(), false, 16, 0);
}

void gradients() {
    auto result = [](const char* name, std::vector<float> values, wire::GradientEncoding encoding, bool zstd) {
        QByteArray seed;
        const auto n = static_cast<std::uint16_t>(values.size());
        seed.append(static_cast<char>(n & 0xff)).append(static_cast<char>(n >> 8));
        // The raw decoder's part: encoding, count, values.
        const QByteArray encoded = protocol::encodeGradientValues(values, encoding);
        seed.append(static_cast<char>(encoding));
        seed.append(static_cast<char>(n & 0xff)).append(static_cast<char>(n >> 8));
        fuzz::appendPiece(seed, encoded);
        // The assembler's part: the SubmitResult messages (kChunkBytes chunks: one part here).
        for (const wire::SubmitResult& part :
             protocol::makeSubmitResults({"unit-7", values, 32, 17.5, 20, 5}, encoding, zstd))
            fuzz::appendPiece(seed, QByteArray::fromStdString(part.SerializeAsString()));
        put("gradient", name, seed);
    };
    std::vector<float> small{0.5f, -1.0f, 3.25f, 0.0f, 1e-3f, -7.5f};
    std::vector<float> larger;
    for (int i = 0; i < 300; ++i) larger.push_back(static_cast<float>(i % 17) * 0.125f - 1.0f);
    result("fp32", small, wire::GRADIENT_ENCODING_FP32, false);
    result("fp16", small, wire::GRADIENT_ENCODING_FP16, false);
    result("bf16_zstd", larger, wire::GRADIENT_ENCODING_BF16, true);
    result("fp32_zstd", larger, wire::GRADIENT_ENCODING_FP32, true);
    result("empty", {}, wire::GRADIENT_ENCODING_FP32, false);
}

QByteArray toQByteArray(const std::vector<std::byte>& b) {
    return QByteArray(reinterpret_cast<const char*>(b.data()), static_cast<qsizetype>(b.size()));
}

void safetensorsFiles() {
    SafeTensors a;
    a.putFloat32("fc.weight", {2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
    a.putFloat32("fc.bias", {2}, std::vector<float>{0.5f, -0.5f}, safetensors::DType::BF16);
    a.metadata["format"] = "pt";
    put("safetensors", "f32_bf16", toQByteArray(a.toBytes()));
    SafeTensors b;
    b.putFloat32("scale", {}, std::vector<float>{2.0f}, safetensors::DType::F64);
    b.putFloat32("half", {2, 2}, std::vector<float>{1, -1, 0.25f, 65504}, safetensors::DType::F16);
    b.putFloat32("empty", {0, 4}, std::vector<float>{});
    b.metadata["raven.step"] = "12";
    b.metadata["raven.spec"] = R"({"input": {"shape": [4]}})";
    put("safetensors", "f64_f16_empty", toQByteArray(b.toBytes()));
    put("safetensors", "no_tensors", toQByteArray(SafeTensors().toBytes()));
}

std::vector<std::uint8_t> pixels(int n) {
    std::vector<std::uint8_t> v;
    for (int i = 0; i < n; ++i) v.push_back(static_cast<std::uint8_t>((i * 37) % 256));
    return v;
}

void idx() {
    using testing::idxU8;
    auto pair = [](const char* name, std::uint8_t mode, const QByteArray& images, const QByteArray& labels) {
        QByteArray seed(1, static_cast<char>(mode));
        fuzz::appendPiece(seed, images);
        seed.append(labels);
        put("idx", name, seed);
    };
    pair("u8_images", 0, idxU8({6, 4, 4}, pixels(96)), idxU8({6}, {0, 1, 2, 1, 0, 2}));
    pair("u8_import", 1, idxU8({6, 4, 4}, pixels(96)), idxU8({6}, {0, 1, 2, 1, 0, 2}));
    pair("rank4", 0, idxU8({3, 2, 2, 2}, pixels(24)), idxU8({3}, {1, 0, 1}));
    pair("gzipped", 1, testing::gzip(idxU8({4, 3, 3}, pixels(36))), testing::gzip(idxU8({4}, {0, 1, 0, 1})));
    // A float32 images file (type 0x0D), built by hand: header then big-endian values.
    QByteArray f32("\0\0\x0d\x02", 4);
    testing::appendBigEndian32(f32, 3);
    testing::appendBigEndian32(f32, 2);
    for (std::uint32_t bits : {0x3f800000u, 0xbf800000u, 0x40000000u, 0x00000000u, 0x3e800000u, 0x42c80000u})
        testing::appendBigEndian32(f32, bits);
    pair("f32_images", 0, f32, idxU8({3}, {2, 0, 1}));
}

void npy() {
    using testing::npy;
    using testing::rawBytes;
    auto pair = [](const char* name, std::uint8_t mode, const QByteArray& x, const QByteArray& y) {
        QByteArray seed(1, static_cast<char>(mode));
        fuzz::appendPiece(seed, x);
        seed.append(y);
        put("npy", name, seed);
    };
    const std::vector<float> xs{0.5f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    pair("f4_i8", 1, npy("<f4", false, {4, 3}, rawBytes(xs)),
         npy("<i8", false, {4}, rawBytes(std::vector<std::int64_t>{0, 1, 1, 0})));
    pair("u1_images", 2, npy("|u1", false, {3, 2, 2}, rawBytes(pixels(12))),
         npy("<i4", false, {3}, rawBytes(std::vector<std::int32_t>{2, 0, 1})));
    pair("f8_v2_seq", 0, npy("<f8", false, {2, 2}, rawBytes(std::vector<double>{1, 2, 3, 4}), 2),
         npy("<u2", false, {2, 3}, rawBytes(std::vector<std::uint16_t>{1, 2, 3, 4, 5, 6})));
    pair("flat_i2", 1, npy("<i2", false, {5}, rawBytes(std::vector<std::int16_t>{-3, 0, 7, 100, -200})),
         npy("|u1", false, {5}, rawBytes(std::vector<std::uint8_t>{0, 1, 0, 1, 0})));
}

void csv() {
    auto file = [](const char* name, std::uint8_t mode, const char* text) {
        put("csv", name, QByteArray(1, static_cast<char>(mode)) + QByteArray(text));
    };
    file("header_names", 0,
         "sepal_length,sepal_width,species\n5.1,3.5,setosa\n4.9,3.0,setosa\n6.2,2.9,virginica\n5.9,3.0,versicolor\n");
    file("no_header", 8, "5.1,3.5,0\n4.9,3.0,0\n6.2,2.9,2\n5.9,3.0,1\n\n");
    file("quoted_label_first", 4 + 12 * 2, "\xef\xbb\xbf\"label\",\"a, b\",c\n1,\"2.5\",3\n0,\"-1e3\",4\n");
    file("semicolon", 1 + 12 * 1, "x;y;label\n1;2;0\n3;4;1\n5;6;0\n");
    file("tabs", 2, "a\tb\tc\tlabel\n0.1\t0.2\t0.3\t1\n0.4\t0.5\t0.6\t0\n");
}

void manifests() {
    QTemporaryDir dir;
    data::Dataset ds;
    ds.name = "fuzz-seed";
    ds.classes = {"zero", "one"};
    ds.elementType = data::ElementType::U8;
    data::Samples train({1, 2, 2}, {}), test({1, 2, 2}, {});
    for (int i = 0; i < 5; ++i) {
        const float v = static_cast<float>(i * 10);
        const std::vector<float> f{v, v + 1, v + 2, v + 3};
        const std::vector<std::int32_t> l{i % 2};
        train.append(f, l);
        if (i < 2) test.append(f, l);
    }
    ds.train = train;
    ds.test = test;
    ds.normalization = data::Normalization::fit(ds.train, data::NormalizationKind::PerChannel);
    data::ShardStore store(dir.filePath("shards"));
    put("manifest", "u8_per_channel", data::publishDataset(ds, store, 2).toBytes());
    ds.elementType = data::ElementType::F32;
    ds.normalization = data::Normalization::fit(ds.train, data::NormalizationKind::Global);
    put("manifest", "f32_global", data::publishDataset(ds, store, 3).toBytes());
}

void specs(const QString& sourceDir) {
    for (const char* name : {"mlp", "cnn", "transformer"}) {
        QFile f(sourceDir + "/examples/" + name + ".json");
        if (!f.open(QIODevice::ReadOnly)) {
            std::fprintf(stderr, "cannot read examples/%s.json\n", name);
            std::exit(1);
        }
        put("model_spec", name, f.readAll());
    }
    put("model_spec", "kinds", R"({"name": "kinds", "input": {"shape": [3, 8, 8]},
 "layers": [
  {"name": "c", "kind": "conv2d", "out_channels": 4, "kernel_size": [3, 3], "stride": 1, "padding": 1, "dilation": 1, "groups": 1, "bias": true},
  {"name": "bn", "kind": "batch_norm", "eps": 1e-5, "momentum": 0.1},
  {"name": "g", "kind": "gelu", "approximate": "tanh"},
  {"name": "p", "kind": "avg_pool2d", "kernel_size": 2, "stride": 2, "padding": 1, "count_include_pad": false},
  {"name": "r", "kind": "reshape", "shape": [4, -1]},
  {"name": "ln", "kind": "layer_norm", "eps": 1e-5, "elementwise_affine": true},
  {"name": "res", "kind": "residual", "layers": [{"name": "fc", "kind": "linear", "out": 25, "init": "xavier_uniform"}, {"name": "t", "kind": "tanh"}]},
  {"name": "d", "kind": "dropout", "p": 0.1},
  {"name": "f", "kind": "flatten"},
  {"name": "out", "kind": "linear", "out": 3, "bias": false},
  {"name": "s", "kind": "sigmoid"}
 ],
 "loss": {"kind": "mse"}, "init": {"scheme": "kaiming_normal", "seed": 7}})");
    put("model_spec", "tokens", R"({"input": {"shape": [16]},
 "layers": [
  {"name": "emb", "kind": "embedding", "num_embeddings": 64, "dim": 8},
  {"name": "pos", "kind": "positional_embedding", "max_length": 32},
  {"name": "attn", "kind": "self_attention", "heads": 2, "causal": true, "bias": true},
  {"name": "head", "kind": "linear", "out": 64},
  {"name": "sm", "kind": "softmax"}
 ],
 "loss": {"kind": "cross_entropy", "label_smoothing": 0.1}})");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: fuzz_corpus_writer OUTPUT_DIR SOURCE_DIR\n");
        return 2;
    }
    root = QDir(QString::fromLocal8Bit(argv[1]));
    root.mkpath(".");
    frames();
    chunking();
    gradients();
    safetensorsFiles();
    idx();
    npy();
    csv();
    manifests();
    specs(QString::fromLocal8Bit(argv[2]));
    std::printf("seed corpus written to %s\n", argv[1]);
    return 0;
}
