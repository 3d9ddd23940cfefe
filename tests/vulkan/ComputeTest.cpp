// The Vulkan compute path end to end on a real device (lavapipe in CI): vector addition against the
// CPU, the memory pool, the staging ring, dispatch splitting, barriers between dependent dispatches,
// command buffers resubmitted when the same work is recorded again (and recorded anew when it is not,
// or when a buffer it named was given back), and the pipeline cache in memory and on disk. Every test also ends with
// zero validation messages (synchronization validation included, which checks the barriers).
#include "VulkanTestSupport.h"
#include "base/Error.h"
#include "vulkan/Device.h"
#include "vulkan/Instance.h"
#include "vulkan/Recorder.h"
#include "vulkan/VectorAdd.h"

#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <fstream>
#include <random>
#include <set>

using namespace raven::vulkan;

namespace {

std::vector<float> randomVector(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uniform(-100.0f, 100.0f);
    std::vector<float> v(n);
    for (float& x : v) x = uniform(rng);
    return v;
}

// Header fields of a saved VkPipelineCache (see the Vulkan specification).
struct CacheHeader {
    std::uint32_t headerSize, headerVersion, vendorId, deviceId;
    std::uint8_t uuid[VK_UUID_SIZE];
};

std::vector<char> readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

class ComputeTest : public QObject {
    Q_OBJECT

    std::shared_ptr<Instance> instance_;
    std::size_t messagesBefore_ = 0;
    std::unique_ptr<Device> device_;

    std::unique_ptr<Device> openDevice(DeviceOptions options) {
        if (!options.pipelineCacheDir) options.pipelineCacheDir = std::filesystem::path();  // never the user's cache
        return std::make_unique<Device>(instance_, options);
    }

private slots:
    void initTestCase() {
        QString skip;
        instance_ = raven::test::openInstance(skip);
        if (!instance_) QSKIP(qPrintable(skip));
        device_ = openDevice({});
    }
    RAVEN_VULKAN_VALIDATION_CHECKS
    void cleanupTestCase() {
        device_.reset();  // device destruction must be clean too
        if (instance_)
            QVERIFY2(instance_->validationMessageCount() == 0,
                     qPrintable(raven::test::validationReport(*instance_, 0)));
    }

    void vectorAddEqualsCpu_data() {
        QTest::addColumn<qulonglong>("n");
        QTest::newRow("1") << 1ull;
        QTest::newRow("3") << 3ull;
        QTest::newRow("1000") << 1000ull;
        QTest::newRow("2^20+7") << qulonglong((1u << 20) + 7);
    }
    void vectorAddEqualsCpu() {
        QFETCH(qulonglong, n);
        const auto a = randomVector(n, 1);
        const auto b = randomVector(n, 2);
        const auto c = vectorAdd(*device_, a, b);
        QCOMPARE(c.size(), std::size_t(n));
        for (std::size_t i = 0; i < n; ++i)
            if (c[i] != a[i] + b[i])  // one IEEE addition: bit-identical on every device
                QFAIL(qPrintable(QStringLiteral("c[%1] = %2, CPU says %3").arg(i).arg(c[i]).arg(a[i] + b[i])));
        QVERIFY_THROWS_EXCEPTION(raven::Error, vectorAdd(*device_, a, std::span<const float>(b).first(n - 1)));
    }

    // More workgroups than one dispatch may have: the Recorder splits into vkCmdDispatchBase calls.
    void splitsDispatchesBeyondTheGroupLimit() {
        auto device = openDevice({.maxGroupsPerDispatch = 3});
        const std::uint32_t local = vectorAddWorkgroupSize(*device);
        const std::uint64_t n = std::uint64_t(local) * 20 - 5;  // 20 groups: 3+3+3+3+3+3+2
        const auto a = randomVector(n, 3);
        const auto b = randomVector(n, 4);
        std::vector<float> c(n);
        Buffer da = device->createBuffer(n * 4), db = device->createBuffer(n * 4), dc = device->createBuffer(n * 4);
        Recorder rec(*device);
        rec.upload(da.range(), a);
        rec.upload(db.range(), b);
        vectorAdd(*device, rec, da.range(), db.range(), dc.range(), n);
        rec.download(dc.range(), std::span<float>(c));
        rec.submit();
        QCOMPARE(rec.stats().dispatchCalls, std::size_t(7));
        for (std::size_t i = 0; i < n; ++i) QCOMPARE(c[i], a[i] + b[i]);
    }

    // Barriers only where one command depends on another; the sum through two levels proves the order.
    void barriersOnlyBetweenDependentDispatches() {
        const std::size_t n = 4099;
        const auto a = randomVector(n, 5);
        const auto b = randomVector(n, 6);
        std::vector<float> d(n);
        const VkDeviceSize bytes = n * sizeof(float);
        Buffer da = device_->createBuffer(bytes), db = device_->createBuffer(bytes);
        Buffer c1 = device_->createBuffer(bytes), c2 = device_->createBuffer(bytes), dd = device_->createBuffer(bytes);
        Recorder rec(*device_);
        rec.upload(da.range(), a);
        rec.upload(db.range(), b);
        QCOMPARE(rec.stats().barriers, std::size_t(0));  // two uploads to different buffers
        vectorAdd(*device_, rec, da.range(), db.range(), c1.range(), n);
        QCOMPARE(rec.stats().barriers, std::size_t(1));  // reads what the uploads wrote
        vectorAdd(*device_, rec, da.range(), db.range(), c2.range(), n);
        QCOMPARE(rec.stats().barriers, std::size_t(1));  // independent of the first dispatch
        vectorAdd(*device_, rec, c1.range(), c2.range(), dd.range(), n);
        QCOMPARE(rec.stats().barriers, std::size_t(2));  // reads both results
        vectorAdd(*device_, rec, dd.range(), dd.range(), c1.range(), n);
        QCOMPARE(rec.stats().barriers, std::size_t(3));  // reads dd, and overwrites c1 that was read (WAR)
        rec.download(dd.range(), std::span<float>(d));
        QCOMPARE(rec.stats().barriers, std::size_t(3));  // dd was already made visible by the last barrier
        rec.submit();
        QCOMPARE(rec.stats().submits, std::size_t(1));
        for (std::size_t i = 0; i < n; ++i) QCOMPARE(d[i], (a[i] + b[i]) + (a[i] + b[i]));

        // The recorder is reusable after a submit.
        std::vector<float> again(n);
        rec.download(c1.range(), std::span<float>(again));
        rec.submit();
        for (std::size_t i = 0; i < n; ++i) QCOMPARE(again[i], d[i] + d[i]);
    }

    void rejectsBadBindings() {
        const Pipeline& p = device_->pipelines().get({"vector_add", 3, 4, {vectorAddWorkgroupSize(*device_)}});
        Buffer x = device_->createBuffer(1024);
        Recorder rec(*device_);
        const std::uint32_t n = 16;
        QVERIFY_THROWS_EXCEPTION(raven::Error,
                                 rec.dispatch(p, {{x.range(), Access::Read}, {x.range(), Access::Read}}, n, {1, 1, 1}));
        const std::uint64_t twoBytes = 2;
        QVERIFY_THROWS_EXCEPTION(
            raven::Error,
            rec.dispatch(p, {{x.range(), Access::Read}, {x.range(), Access::Read}, {x.range(), Access::Write}},
                         twoBytes, {1, 1, 1}));
        if (device_->info().minStorageBufferOffsetAlignment > 1)
            QVERIFY_THROWS_EXCEPTION(
                raven::Error,
                rec.dispatch(p, {{x.range(1, 64), Access::Read}, {x.range(), Access::Read}, {x.range(), Access::Write}},
                             n, {1, 1, 1}));
        QVERIFY_THROWS_EXCEPTION(raven::Error, x.range(1000, 100));
        QVERIFY_THROWS_EXCEPTION(raven::Error, device_->pipelines().get({"no_such_shader", 1, 0, {}}));
        QVERIFY_THROWS_EXCEPTION(raven::Error, device_->pipelines().get({"vector_add", 3, 4096, {}}));
    }

    void memoryPoolAlignsAndNeverOverlaps() {
        MemoryPool& pool = device_->memory();
        QVERIFY(pool.alignment() % device_->info().minStorageBufferOffsetAlignment == 0);
        std::vector<Buffer> buffers;
        for (VkDeviceSize size : {1, 3, 17, 1000, 4096, 12345}) buffers.push_back(device_->createBuffer(size));
        for (std::size_t i = 0; i < buffers.size(); ++i) {
            QCOMPARE(buffers[i].range().offset % pool.alignment(), VkDeviceSize(0));
            for (std::size_t j = 0; j < i; ++j) QVERIFY(!buffers[i].range().overlaps(buffers[j].range()));
        }
        // Neighbours in one block keep their own data through uploads and downloads.
        Buffer left = device_->createBuffer(40), right = device_->createBuffer(40);
        QCOMPARE(left.range().buffer, right.range().buffer);
        const auto l = randomVector(10, 7), r = randomVector(10, 8);
        device_->upload(left.range(), l);
        device_->upload(right.range(), r);
        std::vector<float> lOut(10), rOut(10);
        device_->download(left.range(), std::span<float>(lOut));
        device_->download(right.range(), std::span<float>(rOut));
        QCOMPARE(lOut, l);
        QCOMPARE(rOut, r);
    }

    void memoryPoolReusesBlocksInSteadyState() {
        auto device = openDevice({.blockSize = 1 << 20});
        MemoryPool& pool = device->memory();
        QCOMPARE(pool.blockSize(), VkDeviceSize(1 << 20));
        {
            Buffer first = device->createBuffer(4096);
            const BufferRange where = first.range();
            first = Buffer();  // freed
            Buffer second = device->createBuffer(4096);
            QCOMPARE(second.range().buffer, where.buffer);
            QCOMPARE(second.range().offset, where.offset);  // the same bytes, reused
        }
        // Many small tensors share one block; a training-like loop allocates no memory after the first step.
        std::vector<Buffer> many;
        for (int i = 0; i < 1000; ++i) many.push_back(device->createBuffer(512));
        QCOMPARE(pool.stats().blockAllocations, std::size_t(1));
        QCOMPARE(pool.stats().liveBuffers, std::size_t(1000));
        many.clear();
        QCOMPARE(pool.stats().bytesInUse, VkDeviceSize(0));
        for (int step = 0; step < 50; ++step) {
            std::vector<Buffer> tensors;
            for (VkDeviceSize size : {784 * 256 * 4, 256 * 4, 256 * 128 * 4, 128 * 4, 1280 * 4})
                tensors.push_back(device->createBuffer(size));
        }
        QCOMPARE(pool.stats().blockAllocations, std::size_t(1));

        // Larger than a block: a dedicated block, kept when freed for the next request of its size.
        for (int step = 0; step < 3; ++step) {
            Buffer big = device->createBuffer(3 << 20);
            QCOMPARE(pool.stats().blocks, std::size_t(2));
            QCOMPARE(pool.stats().blockAllocations, std::size_t(2));
            const auto values = randomVector((3 << 20) / 4, 9 + static_cast<unsigned>(step));
            device->upload(big.range(), values);
            std::vector<float> back(values.size());
            device->download(big.range(), std::span<float>(back));
            QCOMPARE(back, values);
        }
        QCOMPARE(pool.stats().blocks, std::size_t(2));
        QCOMPARE(pool.stats().bytesInUse, VkDeviceSize(0));
        QVERIFY(pool.stats().bytesKept >= VkDeviceSize(3 << 20));
        const std::uint64_t generation = pool.generation();
        pool.trim();  // kept ranges merge back, and empty blocks go back to the driver
        QCOMPARE(pool.stats().blocks, std::size_t(0));
        QCOMPARE(pool.stats().bytesKept, VkDeviceSize(0));
        QCOMPARE(pool.stats().liveBuffers, std::size_t(0));
        QVERIFY(pool.generation() != generation);
    }

    // Transfers larger than the staging ring go in chunks, with a submission whenever it is full.
    void stagingRingChunksLargeTransfers() {
        auto device = openDevice({.stagingSize = 4096});
        const auto values = randomVector(10000, 10);  // 40000 bytes through a 4096-byte ring
        Buffer buffer = device->createBuffer(values.size() * 4);
        std::vector<float> back(values.size());
        Recorder rec(*device);
        rec.upload(buffer.range(), values);
        QVERIFY(rec.stats().submits >= 9);
        rec.download(buffer.range(), std::span<float>(back));
        rec.submit();
        QCOMPARE(back, values);
        QCOMPARE(device->staging().used(), VkDeviceSize(0));
        QVERIFY(device->staging().owner() == nullptr);

        // The result of a vector addition also survives the chunking.
        const auto other = randomVector(values.size(), 11);
        const auto sum = vectorAdd(*device, values, other);
        for (std::size_t i = 0; i < values.size(); ++i) QCOMPARE(sum[i], values[i] + other[i]);
    }

    // The same work recorded again (new data through the same staging slices) resubmits the command
    // buffer recorded the first time; other work is recorded anew.
    void resubmitsIdenticalWork() {
        for (const bool reuse : {true, false}) {
            auto device = openDevice({.reuseCommandBuffers = reuse});
            const std::size_t n = 3000;
            Buffer da = device->createBuffer(n * 4), db = device->createBuffer(n * 4), dc = device->createBuffer(n * 4);
            Recorder rec(*device);
            const auto round = [&](std::size_t count, unsigned seed) {
                const auto a = randomVector(count, seed), b = randomVector(count, seed + 100);
                std::vector<float> c(count);
                rec.upload(da.range(0, count * 4), a);
                rec.upload(db.range(0, count * 4), b);
                vectorAdd(*device, rec, da.range(), db.range(), dc.range(), count);
                rec.download(dc.range(0, count * 4), std::span<float>(c));
                rec.submit();
                for (std::size_t i = 0; i < count; ++i)
                    if (c[i] != a[i] + b[i]) return false;
                return true;
            };
            for (unsigned r = 0; r < 3; ++r) QVERIFY(round(n, 20 + r));
            QCOMPARE(rec.stats().commandBuffersRecorded, reuse ? std::size_t(1) : std::size_t(3));
            QCOMPARE(rec.stats().commandBuffersReused, reuse ? std::size_t(2) : std::size_t(0));
            QVERIFY(round(n - 1, 30));  // another shape: another recording
            QCOMPARE(rec.stats().commandBuffersRecorded, reuse ? std::size_t(2) : std::size_t(4));
            QVERIFY(round(n, 31));  // the first one is still kept
            QCOMPARE(rec.stats().commandBuffersReused, reuse ? std::size_t(3) : std::size_t(0));
            QCOMPARE(rec.stats().submits, std::size_t(5));
        }
    }

    // A command buffer that names a buffer since given back to the driver is never resubmitted, even
    // when a new buffer gets the same handle and offsets.
    void recordsAgainAfterABlockIsFreed() {
        auto device = openDevice({.blockSize = 1 << 20});
        Recorder rec(*device);
        const std::size_t n = (1 << 20) / 4 + 1000;  // more than a block: a dedicated one
        for (unsigned r = 0; r < 4; ++r) {
            Buffer big = device->createBuffer(n * 4);  // the block kept from the round before (pool.trim(): a new one)
            const auto values = randomVector(n, 40 + r);
            std::vector<float> back(n);
            rec.upload(big.range(), values);
            rec.download(big.range(), std::span<float>(back));
            rec.submit();
            QCOMPARE(back, values);
            if (r == 1) {
                big = Buffer();
                device->memory().trim();
            }
        }
        // Round 2 reuses round 1's recording; round 3 cannot (the block was given back); round 4 can.
        QCOMPARE(rec.stats().commandBuffersRecorded, std::size_t(2));
        QCOMPARE(rec.stats().commandBuffersReused, std::size_t(2));
    }

    void pipelineCacheHitsOnSecondUse() {
        PipelineCache& cache = device_->pipelines();
        const auto before = cache.stats();
        // Workgroup sizes no other test uses, so that the first get() must compile.
        const PipelineDesc desc{"vector_add", 3, 4, {96}};
        const Pipeline& first = cache.get(desc);
        QCOMPARE(cache.stats().created, before.created + 1);
        QCOMPARE(cache.stats().hits, before.hits);
        const Pipeline& second = cache.get(desc);
        QCOMPARE(&first, &second);
        QCOMPARE(cache.stats().created, before.created + 1);
        QCOMPARE(cache.stats().hits, before.hits + 1);
        const Pipeline& other = cache.get({"vector_add", 3, 4, {48}});  // other specialization: other pipeline
        QVERIFY(&other != &first);
        QCOMPARE(cache.stats().created, before.created + 2);
        // Both compute correctly with their own workgroup size.
        const std::uint32_t n = 1000;
        const auto a = randomVector(n, 12), b = randomVector(n, 13);
        for (const Pipeline* p : {&first, &other}) {
            Buffer da = device_->createBuffer(n * 4), db = device_->createBuffer(n * 4),
                   dc = device_->createBuffer(n * 4);
            std::vector<float> c(n);
            Recorder rec(*device_);
            rec.upload(da.range(), a);
            rec.upload(db.range(), b);
            rec.dispatch(*p, {{da.range(), Access::Read}, {db.range(), Access::Read}, {dc.range(), Access::Write}}, n,
                         Recorder::groupsFor(n, p->desc.specialization[0]));
            rec.download(dc.range(), std::span<float>(c));
            rec.submit();
            for (std::uint32_t i = 0; i < n; ++i) QCOMPARE(c[i], a[i] + b[i]);
        }
    }

    void pipelineCacheRoundTripsThroughDisk() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::filesystem::path cacheDir = dir.path().toStdString();
        std::filesystem::path file;
        {
            auto device = openDevice({.pipelineCacheDir = cacheDir});
            file = device->pipelines().file();
            QCOMPARE(file, PipelineCache::fileIn(cacheDir, device->info()));
            QCOMPARE(device->pipelines().stats().loadedBytes, std::size_t(0));
            device->pipelines().get({"vector_add", 3, 4, {vectorAddWorkgroupSize(*device)}});
        }  // saved here
        QVERIFY(std::filesystem::exists(file));
        auto data = readFile(file);
        QVERIFY(data.size() >= sizeof(CacheHeader));
        CacheHeader header{};
        std::memcpy(&header, data.data(), sizeof header);
        QCOMPARE(header.headerVersion, std::uint32_t(VK_PIPELINE_CACHE_HEADER_VERSION_ONE));
        QCOMPARE(header.vendorId, device_->info().vendorId);
        QCOMPARE(header.deviceId, device_->info().deviceId);
        QVERIFY(std::memcmp(header.uuid, device_->info().pipelineCacheUUID.data(), VK_UUID_SIZE) == 0);

        {
            auto device = openDevice({.pipelineCacheDir = cacheDir});
            QCOMPARE(device->pipelines().stats().loadedBytes, data.size());
            const auto& notes = device->pipelines().notes();
            QVERIFY(!notes.empty() && notes.back().find("loaded") != std::string::npos);
            const auto sum = vectorAdd(*device, std::vector<float>{1, 2}, std::vector<float>{3, 4});
            QCOMPARE(sum, (std::vector<float>{4, 6}));
        }

        // A cache from another driver version (different UUID) is ignored with a note, then replaced.
        data[16] = static_cast<char>(data[16] ^ 0xff);
        {
            std::ofstream out(file, std::ios::binary | std::ios::trunc);
            out.write(data.data(), static_cast<std::streamsize>(data.size()));
        }
        {
            auto device = openDevice({.pipelineCacheDir = cacheDir});
            QCOMPARE(device->pipelines().stats().loadedBytes, std::size_t(0));
            const auto& notes = device->pipelines().notes();
            QVERIFY(!notes.empty() && notes.back().find("pipelineCacheUUID") != std::string::npos);
            device->pipelines().get({"vector_add", 3, 4, {vectorAddWorkgroupSize(*device)}});
        }
        const auto replaced = readFile(file);
        QVERIFY(replaced.size() >= sizeof(CacheHeader));
        QVERIFY(std::memcmp(replaced.data() + 16, device_->info().pipelineCacheUUID.data(), VK_UUID_SIZE) == 0);

        // Garbage is ignored too.
        {
            std::ofstream out(file, std::ios::binary | std::ios::trunc);
            out << "not a cache";
        }
        auto device = openDevice({.pipelineCacheDir = cacheDir});
        QCOMPARE(device->pipelines().stats().loadedBytes, std::size_t(0));
        QVERIFY(device->pipelines().notes().back().find("too short") != std::string::npos);
    }
};

QTEST_APPLESS_MAIN(ComputeTest)
#include "ComputeTest.moc"
