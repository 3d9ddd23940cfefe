// safetensors files: every dtype round-trips, the layout is the documented one, float accessors
// convert as promised, and each kind of malformed file is a raven::Error that names the file, the
// tensor and the broken rule.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <cstring>

#include "base/Error.h"
#include "tensor/DType.h"
#include "checkpoint/SafeTensors.h"

using raven::NamedArray;
using raven::SafeTensors;
using raven::safetensors::DType;

Q_DECLARE_METATYPE(DType)

namespace {

std::vector<std::byte> patternBytes(std::size_t size, unsigned seed) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = std::byte(static_cast<unsigned char>(seed * 31 + i * 7 + 1));
    return bytes;
}

NamedArray makeArray(std::string name, DType dtype, std::vector<std::int64_t> shape, unsigned seed = 1) {
    NamedArray array{std::move(name), dtype, std::move(shape), {}};
    const auto count = static_cast<std::size_t>(array.elementCount());
    array.data = patternBytes(count * raven::safetensors::dtypeSize(dtype), seed);
    if (dtype == DType::BOOL)
        for (auto& b : array.data) b = std::byte(std::to_integer<unsigned>(b) & 1u);
    return array;
}

std::uint64_t headerLength(const std::vector<std::byte>& bytes) {
    std::uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | std::to_integer<std::uint64_t>(bytes[i]);
    return length;
}

// A file: 8-byte length (the header's own unless `declaredLength` says otherwise), header, data.
QByteArray fileBytes(const QByteArray& header, int dataBytes, qint64 declaredLength = -1) {
    QByteArray bytes(8, '\0');
    std::uint64_t length = declaredLength < 0 ? std::uint64_t(header.size()) : std::uint64_t(declaredLength);
    for (int i = 0; i < 8; ++i, length >>= 8) bytes[i] = char(length & 0xff);
    bytes += header;
    bytes += QByteArray(dataBytes, '\x01');
    return bytes;
}

}  // namespace

class SafeTensorsTest : public QObject {
    Q_OBJECT
private slots:
    void roundTripEachDType_data() {
        QTest::addColumn<DType>("dtype");
        for (const DType dtype : {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64, DType::I32, DType::I16,
                                  DType::I8, DType::U8, DType::BOOL})
            QTest::newRow(std::string(raven::safetensors::dtypeName(dtype)).c_str()) << dtype;
    }
    void roundTripEachDType() {
        QFETCH(DType, dtype);
        SafeTensors tensors;
        tensors.put(makeArray("layer.weight", dtype, {2, 3, 5}, 1));
        tensors.put(makeArray("scalar", dtype, {}, 2));
        tensors.put(makeArray("empty", dtype, {0, 4}, 3));
        tensors.metadata["note"] = "ünïcode ✓";
        QTemporaryDir dir;
        const std::string path = dir.filePath("t.safetensors").toStdString();
        tensors.write(path);
        const SafeTensors loaded = SafeTensors::read(path);
        QCOMPARE(loaded.size(), std::size_t(3));
        QCOMPARE(loaded.metadata, tensors.metadata);
        for (const NamedArray& original : tensors.arrays()) {
            const NamedArray& back = loaded.at(original.name);
            QCOMPARE(back.dtype, dtype);
            QCOMPARE(back.shape, original.shape);
            QVERIFY(back.data == original.data);
        }
    }

    void layoutIsAlignedPaddedAndDeterministic() {
        SafeTensors forward, backward;
        const std::vector<NamedArray> arrays{makeArray("b.i8", DType::I8, {3}), makeArray("a.f16", DType::F16, {3}),
                                             makeArray("c.f64", DType::F64, {2}), makeArray("d.f32", DType::F32, {1}),
                                             makeArray("e.bf16", DType::BF16, {5})};
        for (const auto& a : arrays) forward.put(a);
        for (auto it = arrays.rbegin(); it != arrays.rend(); ++it) backward.put(*it);
        const auto bytes = forward.toBytes();
        QVERIFY(bytes == backward.toBytes());
        const std::uint64_t length = headerLength(bytes);
        QCOMPARE(length % 8, 0u);
        const QByteArray header(reinterpret_cast<const char*>(bytes.data()) + 8, qsizetype(length));
        // Largest element first, then by name; offsets multiples of the element size.
        const auto document = QJsonDocument::fromJson(header).object();
        QCOMPARE(document.value("c.f64").toObject().value("data_offsets").toArray().at(0).toInteger(), 0);
        QCOMPARE(document.value("d.f32").toObject().value("data_offsets").toArray().at(0).toInteger(), 16);
        QCOMPARE(document.value("a.f16").toObject().value("data_offsets").toArray().at(0).toInteger(), 20);
        QCOMPARE(document.value("e.bf16").toObject().value("data_offsets").toArray().at(0).toInteger(), 26);
        QCOMPARE(document.value("b.i8").toObject().value("data_offsets").toArray().at(0).toInteger(), 36);
        QVERIFY(!document.contains("__metadata__"));  // as the reference: no metadata, no key

        QTemporaryDir dir;
        const std::string path = dir.filePath("x.safetensors").toStdString();
        forward.write(path);
        QFile file(QString::fromStdString(path));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray written = file.readAll();
        QCOMPARE(std::size_t(written.size()), bytes.size());
        QVERIFY(std::memcmp(written.constData(), bytes.data(), bytes.size()) == 0);
    }

    void writeReplacesAnExistingFile() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("w.safetensors").toStdString();
        SafeTensors first;
        first.put(makeArray("a", DType::F32, {100}));
        first.write(path);
        SafeTensors second;
        second.put(makeArray("b", DType::U8, {2}));
        second.write(path);
        const SafeTensors loaded = SafeTensors::read(path);
        QCOMPARE(loaded.size(), std::size_t(1));
        QVERIFY(loaded.contains("b"));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"w.safetensors"});  // no temporary left
    }

    void floatAccessorsConvert() {
        const std::vector<float> values{1.0f, -2.5f, 1.0f + 0x1p-11f, 3.14159265f, 65520.0f, 1e-7f};
        SafeTensors tensors;
        for (const DType dtype : {DType::F32, DType::F16, DType::BF16, DType::F64})
            tensors.putFloat32(std::string(raven::safetensors::dtypeName(dtype)), {2, 3}, values, dtype);
        const SafeTensors loaded = SafeTensors::fromBytes(tensors.toBytes(), "memory");
        QCOMPARE(loaded.at("F16").data.size(), std::size_t(12));
        const auto f32 = loaded.toFloat32("F32");
        const auto f16 = loaded.toFloat32("F16");
        const auto bf16 = loaded.toFloat32("BF16");
        const auto f64 = loaded.toFloat32("F64");
        for (std::size_t i = 0; i < values.size(); ++i) {
            QCOMPARE(f32[i], values[i]);
            QCOMPARE(f64[i], values[i]);
            QCOMPARE(f16[i], raven::halfToFloat(raven::floatToHalf(values[i])));
            QCOMPARE(bf16[i],
                     raven::bfloat16ToFloat(raven::floatToBFloat16(values[i])));
        }
        QCOMPARE(f16[2], 1.0f);       // a tie, to even
        QVERIFY(std::isinf(f16[4]));  // beyond the half range
        QCOMPARE(bf16[3], 3.140625f);

        NamedArray integers{"counts", DType::I64, {3}, {}};
        const std::int64_t raw[3] = {-3, 0, 1 << 20};
        integers.data.resize(sizeof raw);
        std::memcpy(integers.data.data(), raw, sizeof raw);
        QCOMPARE(integers.toFloat32(), (std::vector<float>{-3.0f, 0.0f, 1048576.0f}));
    }

    void misuseIsAnError() {
        SafeTensors tensors;
        NamedArray wrongSize = makeArray("w", DType::F32, {2, 2});
        wrongSize.data.pop_back();
        QVERIFY_THROWS_EXCEPTION(raven::Error, tensors.put(wrongSize));
        QVERIFY_THROWS_EXCEPTION(raven::Error, wrongSize.toFloat32());
        QVERIFY_THROWS_EXCEPTION(raven::Error, tensors.put(NamedArray{"n", DType::U8, {-1}, {}}));
        QVERIFY_THROWS_EXCEPTION(raven::Error, tensors.put(makeArray("__metadata__", DType::U8, {1})));
        QVERIFY_THROWS_EXCEPTION(raven::Error, tensors.put(makeArray("", DType::U8, {1})));
        const std::vector<float> three{1, 2, 3};
        QVERIFY_THROWS_EXCEPTION(raven::Error, tensors.putFloat32("v", {2, 2}, three));
        QVERIFY_THROWS_EXCEPTION(raven::Error, tensors.putFloat32("v", {3}, three, DType::I32));
        tensors.putFloat32("fc1.weight", {3}, three);
        try {
            tensors.at("fc2.weight");
            QFAIL("no error for a missing tensor");
        } catch (const raven::Error& error) {
            QVERIFY(error.message().find("'fc2.weight'") != std::string::npos);
            QVERIFY(error.message().find("fc1.weight") != std::string::npos);
        }
        QVERIFY(tensors.remove("fc1.weight"));
        QVERIFY(!tensors.remove("fc1.weight"));
    }

    // A shape whose product does not fit in 64 bits (here 2^64, which wraps to 0) is an error, never a
    // wrapped count.
    void elementCountIsChecked() {
        QCOMPARE((NamedArray{"fits", DType::U8, {std::int64_t{1} << 31, std::int64_t{1} << 31}, {}}.elementCount()),
                 std::int64_t{1} << 62);
        QCOMPARE((NamedArray{"empty", DType::U8, {std::int64_t{1} << 40, 0, std::int64_t{1} << 40}, {}}.elementCount()),
                 std::int64_t{0});
        try {
            NamedArray{"huge", DType::U8, {std::int64_t{1} << 62, 4}, {}}.elementCount();
            QFAIL("no error for a shape of 2^64 elements");
        } catch (const raven::Error& error) {
            QVERIFY(error.message().find("'huge'") != std::string::npos);
            QVERIFY(error.message().find("64 bits") != std::string::npos);
        }
    }

    void unreadableAndUnwritablePlacesAreErrors() {
        QTemporaryDir dir;
        const std::string missing = dir.filePath("missing.safetensors").toStdString();
        try {
            SafeTensors::read(missing);
            QFAIL("no error for a missing file");
        } catch (const raven::Error& error) {
            QVERIFY(error.message().find(missing) != std::string::npos);
            QVERIFY(!error.hint().empty());
        }
        const std::string nowhere = dir.filePath("no/such/folder/x.safetensors").toStdString();
        QVERIFY_THROWS_EXCEPTION(raven::Error, SafeTensors{}.write(nowhere));
    }

    void malformedFilesAreRefused_data() {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<QStringList>("mentions");
        const QByteArray a8 = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
        QTest::newRow("shorter than the length field") << QByteArray(5, '\0') << QStringList{"shorter than the 8-byte"};
        QTest::newRow("header length beyond the file")
            << fileBytes("{" + a8 + "}", 8, 1000) << QStringList{"header length 1000", "beyond the end of the file"};
        QTest::newRow("header length beyond the limit")
            << fileBytes("{}", 0, qint64(1) << 40) << QStringList{"exceeds the limit"};
        QTest::newRow("truncated data") << fileBytes("{" + a8 + "}", 5)
                                        << QStringList{"tensor 'a'", "beyond the end of the data section", "truncated"};
        QTest::newRow("bad JSON") << fileBytes(R"({"a":{"dtype":"F32",)", 0) << QStringList{"not valid JSON"};
        QTest::newRow("header not an object") << fileBytes("[1, 2]", 0) << QStringList{"not a JSON object"};
        QTest::newRow("overlapping offsets")
            << fileBytes("{" + a8 + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12)
            << QStringList{"tensor 'b'", "overlaps tensor 'a'"};
        QTest::newRow("gap in data") << fileBytes(
                                            "{" + a8 + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
                                            20)
                                     << QStringList{"tensor 'b'", "gap of 4 bytes", "after tensor 'a'"};
        QTest::newRow("gap at the start") << fileBytes(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})", 4)
                                          << QStringList{"tensor 'a'", "gap of 2 bytes", "start of the data section"};
        QTest::newRow("data after the last tensor")
            << fileBytes("{" + a8 + "}", 12) << QStringList{"holds 12 bytes", "cover 8"};
        QTest::newRow("wrong byte count") << fileBytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)
                                          << QStringList{"tensor 'a'", "8 bytes", "need 12"};
        QTest::newRow("unknown dtype") << fileBytes(R"({"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", 2)
                                       << QStringList{"tensor 'a'", "\"F8_E4M3\"", "does not support"};
        QTest::newRow("duplicate name") << fileBytes("{" + a8 + "," + a8 + "}", 8)
                                        << QStringList{"tensor 'a' appears twice"};
        QTest::newRow("duplicate name spelled with an escape")
            << fileBytes("{" + a8 + R"(,"\u0061":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16)
            << QStringList{"tensor 'a' appears twice"};
        QTest::newRow("duplicate field")
            << fileBytes(R"({"a":{"dtype":"F32","dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 2)
            << QStringList{"'dtype' appears twice under 'a'"};
        QTest::newRow("negative dimension")
            << fileBytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,0]}})", 0)
            << QStringList{"tensor 'a'", "shape entry", "-2"};
        QTest::newRow("fractional offset") << fileBytes(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2.5]}})", 2)
                                           << QStringList{"tensor 'a'", "data_offsets entry"};
        QTest::newRow("end before begin") << fileBytes(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", 4)
                                          << QStringList{"tensor 'a'", "ends before it begins"};
        QTest::newRow("shape that overflows")
            << fileBytes(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0)
            << QStringList{"tensor 'a'", "overflows"};
        QTest::newRow("missing dtype") << fileBytes(R"({"a":{"shape":[2],"data_offsets":[0,2]}})", 2)
                                       << QStringList{"tensor 'a'", "no \"dtype\""};
        QTest::newRow("metadata value not a string")
            << fileBytes(R"({"__metadata__":{"step":3}})", 0) << QStringList{"metadata key 'step'"};
    }
    void malformedFilesAreRefused() {
        QFETCH(QByteArray, file);
        QFETCH(QStringList, mentions);
        QTemporaryDir dir;
        const QString path = dir.filePath("broken.safetensors");
        QFile out(path);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(file);
        out.close();
        try {
            SafeTensors::read(path.toStdString());
            QFAIL("the malformed file was accepted");
        } catch (const raven::Error& error) {
            const QString message = QString::fromStdString(error.message());
            QVERIFY2(message.contains(path), qPrintable(message));
            for (const QString& mention : mentions) QVERIFY2(message.contains(mention), qPrintable(message));
            QVERIFY(!error.hint().empty());
        }
    }

    void validEdgeCasesAreAccepted() {
        // Unpadded header, no tensors, leading whitespace, a null metadata: all valid for the reference.
        const SafeTensors empty =
            SafeTensors::fromBytes(std::as_bytes(std::span(fileBytes("{}", 0).constData(), 10)), "empty");
        QCOMPARE(empty.size(), std::size_t(0));
        const QByteArray spaced =
            fileBytes(R"(  {"__metadata__":null,"a":{"dtype":"U8","shape":[],"data_offsets":[0,1]}})", 1);
        const SafeTensors one =
            SafeTensors::fromBytes(std::as_bytes(std::span(spaced.constData(), spaced.size())), "spaced");
        QCOMPARE(one.at("a").elementCount(), 1);
    }
};

QTEST_APPLESS_MAIN(SafeTensorsTest)
#include "tst_SafeTensors.moc"
