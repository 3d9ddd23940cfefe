#include "data/IdxImporter.h"

#include "base/Checked.h"
#include "base/Error.h"
#include "data/FileBytes.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <zlib.h>
#include <bit>
#include <cstring>

namespace raven::data {

namespace {

std::int64_t typeSize(std::uint8_t type) {
    switch (type) {
        case 0x08:
        case 0x09:
            return 1;
        case 0x0B:
            return 2;
        case 0x0C:
        case 0x0D:
            return 4;
        case 0x0E:
            return 8;
        default:
            return 0;
    }
}

std::string hexByte(unsigned v) {
    static const char* digits = "0123456789abcdef";
    return std::string("0x") + digits[(v >> 4) & 15] + digits[v & 15];
}

IdxHeader parseHeader(const unsigned char* p, std::int64_t size, const QString& path) {
    const char* hint = "this is not an IDX file (MNIST format): check that you gave the right file";
    RAVEN_CHECK(size >= 4, str(path) + ": too short for an IDX header (" + std::to_string(size) + " bytes)", hint);
    RAVEN_CHECK(
        p[0] == 0 && p[1] == 0,
        str(path) + ": wrong magic number at byte 0: expected 00 00, found " + hexByte(p[0]) + " " + hexByte(p[1]),
        hint);
    IdxHeader h;
    h.type = p[2];
    RAVEN_CHECK(typeSize(h.type) > 0, str(path) + ": unknown IDX value type " + hexByte(h.type) + " at byte 2",
                "IDX types are 0x08 (u8), 0x09 (i8), 0x0B (i16), 0x0C (i32), 0x0D (f32), 0x0E (f64)");
    const int rank = p[3];
    RAVEN_CHECK(rank >= 1, str(path) + ": IDX rank 0 at byte 3", hint);
    RAVEN_CHECK(size >= 4 + 4 * rank,
                str(path) + ": truncated inside the header: " + std::to_string(rank) + " dimensions need " +
                    std::to_string(4 + 4 * rank) + " bytes, the file has " + std::to_string(size),
                "the file was cut short: fetch it again");
    for (int d = 0; d < rank; ++d) {
        const unsigned char* q = p + 4 + 4 * d;
        const std::uint32_t v =
            (std::uint32_t(q[0]) << 24) | (std::uint32_t(q[1]) << 16) | (std::uint32_t(q[2]) << 8) | q[3];
        RAVEN_CHECK(v > 0 || d == 0,
                    str(path) + ": dimension " + std::to_string(d) + " is 0 (byte " + std::to_string(4 + 4 * d) + ")",
                    hint);
        h.dims.push_back(v);
    }
    return h;
}

double readBigEndian(const unsigned char* p, std::uint8_t type) {
    std::uint64_t u = 0;
    const auto n = typeSize(type);
    for (std::int64_t i = 0; i < n; ++i) u = (u << 8) | p[i];
    switch (type) {
        case 0x08:
            return double(std::uint8_t(u));
        case 0x09:
            return double(std::int8_t(std::uint8_t(u)));
        case 0x0B:
            return double(std::int16_t(std::uint16_t(u)));
        case 0x0C:
            return double(std::int32_t(std::uint32_t(u)));
        case 0x0D:
            return double(std::bit_cast<float>(std::uint32_t(u)));
        case 0x0E:
            return std::bit_cast<double>(u);
    }
    RAVEN_ASSERT(false, "IDX type checked before");
}

struct IdxArray {
    IdxHeader header;
    QByteArray bytes;
    std::int64_t dataOffset = 0;
    const unsigned char* data() const { return reinterpret_cast<const unsigned char*>(bytes.constData()) + dataOffset; }
};

IdxArray readIdxArray(const QString& path, const char* what) {
    IdxArray a;
    a.bytes = readSourceFile(path);
    a.header = parseHeader(reinterpret_cast<const unsigned char*>(a.bytes.constData()), a.bytes.size(), path);
    a.dataOffset = 4 + 4 * static_cast<std::int64_t>(a.header.dims.size());
    const auto count = a.header.dims[0];
    // Each dimension is below 2^32 but a product of several is not bounded: checked, so that a crafted
    // header cannot wrap the size check below (a wrapped size of 0 bytes would pass it).
    const auto perSampleValues = checkedProduct(std::span(a.header.dims).subspan(1));
    const auto perSample = perSampleValues ? mulOrNothing(*perSampleValues, typeSize(a.header.type)) : std::nullopt;
    const auto dataBytes = perSample ? mulOrNothing(count, *perSample) : std::nullopt;
    const auto expectedBytes = dataBytes ? addOrNothing(a.dataOffset, *dataBytes) : std::nullopt;
    if (!expectedBytes)
        fail(str(path) + ": the header's dimensions " + shapeString(a.header.dims) +
                 " describe more than 2^63 bytes of data, which no file holds",
             "the header is corrupt or crafted: this is not a real IDX file; fetch it again from its source");
    const auto expected = *expectedBytes;
    const auto size = static_cast<std::int64_t>(a.bytes.size());
    if (size < expected) {
        const auto complete = (size - a.dataOffset) / *perSample;
        fail(str(path) + ": truncated: the header promises " + std::to_string(count) + " " + what + "s (" +
                 std::to_string(expected) + " bytes) but the data ends at byte " + std::to_string(size) + "; " + what +
                 " " + std::to_string(complete) + " is the first incomplete one",
             "the file was cut short: fetch it again");
    }
    RAVEN_CHECK(size == expected,
                str(path) + ": " + std::to_string(size - expected) + " unexpected bytes after the last of " +
                    std::to_string(count) + " " + what + "s (byte " + std::to_string(expected) + " onwards)",
                "the header and the data disagree: the file is damaged or not IDX");
    return a;
}

}  // namespace

IdxHeader readIdxHeader(const QString& path) {
    // gzread reads plain files as they are, so one path serves .gz and raw files.
    const QByteArray local = QFile::encodeName(path);
    RAVEN_CHECK(QFileInfo::exists(path), str(path) + ": no such file", "check the path");
    gzFile f = gzopen(local.constData(), "rb");
    RAVEN_CHECK(f != nullptr, str(path) + ": cannot be opened", "check the file's permissions");
    unsigned char buf[4 + 4 * 255];
    const int n = gzread(f, buf, sizeof buf);
    gzclose(f);
    RAVEN_CHECK(n >= 0, str(path) + ": the gzip stream is corrupt at its start", "fetch the file again");
    return parseHeader(buf, std::min<std::int64_t>(n, 4 + 4 * (n >= 4 ? buf[3] : 0)), path);
}

Samples readIdxSamples(const QString& imagesPath, const QString& labelsPath, ElementType* type) {
    const IdxArray images = readIdxArray(imagesPath, "sample");
    const IdxArray labels = readIdxArray(labelsPath, "label");
    RAVEN_CHECK(labels.header.dims.size() == 1,
                str(labelsPath) + ": a labels file has one dimension, this one has " +
                    std::to_string(labels.header.dims.size()) + " (" + shapeString(labels.header.dims) + ")",
                "did you swap the images and labels files?");
    RAVEN_CHECK(labels.header.type != 0x0D && labels.header.type != 0x0E,
                str(labelsPath) + ": labels are floating-point (type " + hexByte(labels.header.type) + ")",
                "labels must be integer class indices");
    const auto count = images.header.dims[0];
    RAVEN_CHECK(labels.header.dims[0] == count,
                str(imagesPath) + " holds " + std::to_string(count) + " samples but " + str(labelsPath) + " holds " +
                    std::to_string(labels.header.dims[0]) + " labels",
                "the images and labels files must belong together (e.g. both train-* or both t10k-*)");

    const auto& dims = images.header.dims;
    const Shape shape = dims.size() == 3 ? Shape{1, dims[1], dims[2]}  // [H,W] -> [1,H,W]
                                         : Shape(dims.begin() + 1, dims.end());
    Samples samples(shape, {});
    const auto n = count * samples.featureSize();
    std::vector<float> x(static_cast<std::size_t>(n));
    const auto itemBytes = typeSize(images.header.type);
    if (images.header.type == 0x08) {
        for (std::int64_t i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = images.data()[i];
    } else {
        for (std::int64_t i = 0; i < n; ++i)
            x[static_cast<std::size_t>(i)] =
                static_cast<float>(readBigEndian(images.data() + i * itemBytes, images.header.type));
    }
    std::vector<std::int32_t> y(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
        const double v = readBigEndian(labels.data() + i * typeSize(labels.header.type), labels.header.type);
        RAVEN_CHECK(v >= 0,
                    str(labelsPath) + ": label " + std::to_string(i) + " is negative (" + std::to_string(v) + ")",
                    "labels must be class indices 0, 1, 2, ...");
        y[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(v);
    }
    samples.assign(std::move(x), std::move(y));
    if (type) *type = images.header.type == 0x08 ? ElementType::U8 : ElementType::F32;
    return samples;
}

IdxFiles findIdxFiles(const QString& dir) {
    const QDir d(dir);
    RAVEN_CHECK(d.exists(), str(dir) + ": no such directory", "give the folder that holds the IDX files");
    auto find = [&](const char* base) {
        for (const QString& name : {QString::fromLatin1(base), QString::fromLatin1(base) + ".gz"})
            if (d.exists(name)) return d.filePath(name);
        fail(str(dir) + ": " + base + "[.gz] is missing",
             "an IDX dataset folder holds train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte "
             "and t10k-labels-idx1-ubyte, each raw or gzipped");
    };
    return {find("train-images-idx3-ubyte"), find("train-labels-idx1-ubyte"), find("t10k-images-idx3-ubyte"),
            find("t10k-labels-idx1-ubyte")};
}

const std::vector<std::string>& fashionMnistClassNames() {
    static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
}

Dataset importIdx(const IdxFiles& files, const IdxImportOptions& options) {
    Dataset ds;
    ds.name = options.name.empty() ? "idx" : options.name;
    ElementType trainType{}, testType{};
    ds.train = readIdxSamples(files.trainImages, files.trainLabels, &trainType);
    ds.test = readIdxSamples(files.testImages, files.testLabels, &testType);
    ds.elementType = trainType == ElementType::U8 && testType == ElementType::U8 ? ElementType::U8 : ElementType::F32;
    std::int64_t maxLabel = 0;  // int64: a label of 2^31 - 1 makes 2^31 classes
    for (std::int64_t v : ds.train.allLabels()) maxLabel = std::max(maxLabel, v);
    for (std::int64_t v : ds.test.allLabels()) maxLabel = std::max(maxLabel, v);
    if (options.classNames.empty()) {
        ds.classes = numberedClasses(maxLabel + 1, str(files.trainLabels) + " / " + str(files.testLabels));
    } else {
        ds.classes = options.classNames;
        RAVEN_CHECK(maxLabel < static_cast<std::int64_t>(ds.classes.size()),
                    str(files.trainLabels) + " / " + str(files.testLabels) + ": label " + std::to_string(maxLabel) +
                        " but only " + std::to_string(ds.classes.size()) + " class names were given",
                    "give one class name per label value");
    }
    ds.validate(str(files.trainImages));
    ds.normalization = Normalization::fit(ds.train, options.normalization);
    return ds;
}

Dataset importIdxDirectory(const QString& dir, IdxImportOptions options) {
    const QString base = QFileInfo(QDir::cleanPath(dir)).fileName();
    if (options.name.empty()) options.name = str(base);
    if (options.classNames.empty() && base.contains("fashion", Qt::CaseInsensitive))
        options.classNames = fashionMnistClassNames();
    return importIdx(findIdxFiles(dir), options);
}

}  // namespace raven::data
