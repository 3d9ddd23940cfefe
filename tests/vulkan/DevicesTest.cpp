// Instance, device enumeration and choice, the device description, and that the validation messenger
// really records messages (otherwise "zero messages" in every other test would prove nothing).
#include "VulkanTestSupport.h"
#include "base/Error.h"
#include "vulkan/Device.h"
#include "vulkan/DeviceInfo.h"
#include "vulkan/Instance.h"

#include <QTest>

#include <bit>

using namespace raven::vulkan;

class DevicesTest : public QObject {
    Q_OBJECT

    std::shared_ptr<Instance> instance_;
    std::size_t messagesBefore_ = 0;
    std::vector<DeviceInfo> devices_;

    const DeviceInfo* lavapipe() const {
        for (const auto& d : devices_)
            if (d.name.find("llvmpipe") != std::string::npos) return &d;
        return nullptr;
    }

private slots:
    void initTestCase() {
        QString skip;
        instance_ = raven::test::openInstance(skip);
        if (!instance_) QSKIP(qPrintable(skip));
        if (Instance::validationRequestedByEnvironment()) QVERIFY(instance_->validationEnabled());
        devices_ = listDevices(*instance_);
        QVERIFY(!devices_.empty());
    }
    RAVEN_VULKAN_VALIDATION_CHECKS

    void findsLavapipeWithSaneLimits() {
        const DeviceInfo* d = lavapipe();
        if (!d && !std::getenv("VK_DRIVER_FILES")) QSKIP("lavapipe is not among this machine's devices");
        if (!d) QFAIL("the test environment forces lavapipe, but listDevices() did not report it");
        QVERIFY(d->usable);
        QVERIFY(d->type == DeviceType::Cpu);
        QVERIFY(d->apiVersion >= VK_API_VERSION_1_2);
        QVERIFY(d->computeQueueFamily != UINT32_MAX);
        // The minimums the Vulkan specification guarantees, and powers of two where it requires them.
        QVERIFY(d->maxComputeWorkGroupInvocations >= 128);
        QVERIFY(d->maxComputeWorkGroupSize[0] >= 128);
        QVERIFY(d->maxComputeWorkGroupSize[2] >= 64);
        for (auto count : d->maxComputeWorkGroupCount) QVERIFY(count >= 65535);
        QVERIFY(d->maxComputeSharedMemorySize >= 16384);
        QVERIFY(d->maxStorageBufferRange >= (1u << 27));
        QVERIFY(std::has_single_bit(d->minStorageBufferOffsetAlignment));
        QVERIFY(d->minStorageBufferOffsetAlignment <= 256);
        QVERIFY(d->maxPushConstantsSize >= 128);
        QVERIFY(std::has_single_bit(d->subgroupSize));
        QVERIFY(d->minSubgroupSize <= d->subgroupSize && d->subgroupSize <= d->maxSubgroupSize);
        QVERIFY(d->subgroupInCompute);
        QVERIFY(d->subgroupOperations & VK_SUBGROUP_FEATURE_BASIC_BIT);
        QVERIFY(d->deviceLocalBytes > 0);
        QVERIFY(d->maxMemoryAllocationSize > 0);
        QVERIFY(d->timestampPeriod > 0);
        QVERIFY(!d->driverName.empty());
        QVERIFY(d->physicalDevice != VK_NULL_HANDLE);
    }

    void picksBySelector() {
        const DeviceInfo& best = pick(devices_, "");
        QVERIFY(best.usable);
        QCOMPARE(pick(devices_, std::to_string(best.index)).index, best.index);
        if (const DeviceInfo* d = lavapipe()) QCOMPARE(pick(devices_, "LLVMpipe").index, d->index);
        QVERIFY_THROWS_EXCEPTION(raven::Error, pick(devices_, "no such device anywhere"));
        QVERIFY_THROWS_EXCEPTION(raven::Error, pick(devices_, std::to_string(devices_.size() + 5)));
    }

    void prefersDiscreteThenIntegratedThenVirtualThenCpu() {
        auto make = [](std::uint32_t index, DeviceType type, bool usable) {
            DeviceInfo d;
            d.index = index;
            d.name = "device " + std::to_string(index);
            d.type = type;
            d.usable = usable;
            if (!usable) d.unusableReason = "supports Vulkan 1.1, Raven needs 1.2";
            return d;
        };
        std::vector<DeviceInfo> list = {make(0, DeviceType::Cpu, true), make(1, DeviceType::Virtual, true),
                                        make(2, DeviceType::Integrated, true), make(3, DeviceType::Discrete, true)};
        QCOMPARE(pick(list, "").index, 3u);
        list[3] = make(3, DeviceType::Discrete, false);  // an unusable discrete GPU is passed over
        QCOMPARE(pick(list, "").index, 2u);
        // Naming an unusable device is an error that says why.
        try {
            pick(list, "3");
            QFAIL("picking an unusable device must fail");
        } catch (const raven::Error& error) {
            QVERIFY(std::string(error.message()).find("Raven needs 1.2") != std::string::npos);
        }
        list.erase(list.begin() + 2);
        QCOMPARE(pick(list, "").index, 1u);
        list.erase(list.begin() + 1);
        QCOMPARE(pick(list, "").index, 0u);
        list[0].usable = false;
        QVERIFY_THROWS_EXCEPTION(NoVulkanDevice, pick(list, ""));
    }

    void describesDevices() {
        const std::string text = describeDevices(devices_);
        for (const auto& d : devices_) {
            QVERIFY(text.find(d.name) != std::string::npos);
            QVERIFY(text.find("subgroup " + std::to_string(d.subgroupSize)) != std::string::npos);
            QVERIFY(text.find(std::string(toString(d.type))) != std::string::npos);
        }
        QVERIFY(text.find("shared memory") != std::string::npos);
        QCOMPARE(describeDevices({}), std::string("no Vulkan devices\n"));
        QCOMPARE(apiVersionString(VK_MAKE_API_VERSION(0, 1, 3, 230)), std::string("1.3.230"));
        QCOMPARE(driverVersionString(0x10DE, (535u << 22) | (104u << 14) | (5u << 6)), std::string("535.104.5.0"));
        QCOMPARE(subgroupOperationsString(VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT),
                 std::string("basic arithmetic"));
    }

    void instanceWithoutValidationRecordsNothing() {
        Instance plain(InstanceOptions{.validation = false});
        QVERIFY(!plain.validationEnabled());
        QVERIFY(!listDevices(plain).empty());
        QCOMPARE(plain.validationMessageCount(), std::size_t(0));
    }

    // A deliberate misuse must reach the messenger; otherwise the zero-message checks prove nothing.
    void validationRecordsMisuse() {
        auto checked = std::make_shared<Instance>(InstanceOptions{.validation = true});
        QVERIFY(checked->validationEnabled());
        {
            Device device(checked, {.pipelineCacheDir = std::filesystem::path()});
            VkBufferCreateInfo info{};
            info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
            info.size = 256;
            info.usage = 0;  // invalid: a buffer needs at least one usage bit
            info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
            VkBuffer buffer = VK_NULL_HANDLE;
            if (vkCreateBuffer(device.handle(), &info, nullptr, &buffer) == VK_SUCCESS)
                vkDestroyBuffer(device.handle(), buffer, nullptr);
        }
        QVERIFY(checked->validationMessageCount() >= 1);
        bool named = false;
        for (const auto& message : checked->validationMessages())
            if (message.find("usage") != std::string::npos) named = true;
        QVERIFY2(named, "the recorded message should name the invalid usage");
    }
};

QTEST_APPLESS_MAIN(DevicesTest)
#include "DevicesTest.moc"
