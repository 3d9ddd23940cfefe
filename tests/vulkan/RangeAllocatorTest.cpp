// RangeAllocator: first-fit aligned sub-allocation inside one memory block (no device needed).
#include "vulkan/RangeAllocator.h"

#include <QTest>

#include <random>
#include <vector>

using raven::vulkan::RangeAllocator;

class RangeAllocatorTest : public QObject {
    Q_OBJECT

private slots:
    void alignsEveryOffset() {
        RangeAllocator ranges(4096);
        const std::uint64_t alignments[] = {1, 4, 16, 64, 256};
        std::uint64_t previousEnd = 0;
        for (std::uint64_t alignment : alignments) {
            const auto offset = ranges.allocate(3, alignment);
            QVERIFY(offset.has_value());
            QCOMPARE(*offset % alignment, 0u);
            QVERIFY(*offset >= previousEnd);  // first fit goes forward in an untouched block
            previousEnd = *offset + 3;
        }
        QCOMPARE(ranges.used(), 15u);
    }

    void refusesWhatDoesNotFit() {
        RangeAllocator ranges(1024);
        QVERIFY(ranges.allocate(1024, 16).has_value());
        QVERIFY(!ranges.allocate(1, 1).has_value());
        RangeAllocator small(100);
        QVERIFY(!small.allocate(101, 1).has_value());
        QVERIFY(small.allocate(1, 1).has_value());
        QVERIFY(!small.allocate(99, 64).has_value());  // 99 bytes remain after offset 1, only 36 from offset 64
    }

    void reusesFreedSpace() {
        RangeAllocator ranges(1024);
        const auto a = ranges.allocate(256, 16);
        const auto b = ranges.allocate(256, 16);
        QVERIFY(a && b);
        ranges.free(*a, 256);
        const auto c = ranges.allocate(256, 16);
        QCOMPARE(*c, *a);  // first fit takes the hole, not the tail
        ranges.free(*b, 256);
        ranges.free(*c, 256);
        QVERIFY(ranges.empty());
        QCOMPARE(ranges.freeRangeCount(), std::size_t(1));  // neighbours merged back into one range
        QCOMPARE(ranges.largestFree(), 1024u);
    }

    void randomChurnNeverOverlapsAndMergesBack() {
        RangeAllocator ranges(1 << 20);
        std::mt19937 rng(7);
        struct Live {
            std::uint64_t offset, size;
        };
        std::vector<Live> live;
        for (int step = 0; step < 5000; ++step) {
            if (live.empty() || rng() % 3 != 0) {
                const std::uint64_t size = 1 + rng() % 4000;
                const std::uint64_t alignment = std::uint64_t(1) << (rng() % 9);
                if (auto offset = ranges.allocate(size, alignment)) {
                    QCOMPARE(*offset % alignment, 0u);
                    QVERIFY(*offset + size <= ranges.capacity());
                    for (const Live& other : live)
                        QVERIFY(*offset + size <= other.offset || other.offset + other.size <= *offset);
                    live.push_back({*offset, size});
                }
            } else {
                const std::size_t i = rng() % live.size();
                ranges.free(live[i].offset, live[i].size);
                live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
            }
        }
        std::uint64_t used = 0;
        for (const Live& l : live) used += l.size;
        QCOMPARE(ranges.used(), used);
        for (const Live& l : live) ranges.free(l.offset, l.size);
        QVERIFY(ranges.empty());
        QCOMPARE(ranges.freeRangeCount(), std::size_t(1));
    }
};

QTEST_APPLESS_MAIN(RangeAllocatorTest)
#include "RangeAllocatorTest.moc"
