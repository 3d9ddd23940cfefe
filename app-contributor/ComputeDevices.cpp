#include "ComputeDevices.h"

#include <QStringList>

#include <algorithm>
#include <string_view>
#include <thread>

#include "base/Error.h"
#include "vulkan/DeviceInfo.h"
#include "vulkan/Instance.h"

namespace raven::contributor {

namespace {

QString kindOf(vulkan::DeviceType type) {
    switch (type) {
        case vulkan::DeviceType::Discrete:
            return QStringLiteral("discrete GPU");
        case vulkan::DeviceType::Integrated:
            return QStringLiteral("integrated GPU");
        case vulkan::DeviceType::Virtual:
            return QStringLiteral("virtual GPU");
        case vulkan::DeviceType::Cpu:
            return QStringLiteral("CPU (Vulkan)");
        case vulkan::DeviceType::Other:
            break;
    }
    return QStringLiteral("other device");
}

// "0000:03:00.0" from VK_EXT_pci_bus_info, when the driver offers it (lavapipe does not).
QString pciAddressOf(VkPhysicalDevice physical) {
    std::uint32_t count = 0;
    vkEnumerateDeviceExtensionProperties(physical, nullptr, &count, nullptr);
    std::vector<VkExtensionProperties> extensions(count);
    vkEnumerateDeviceExtensionProperties(physical, nullptr, &count, extensions.data());
    const bool offered = std::any_of(extensions.begin(), extensions.end(), [](const VkExtensionProperties& e) {
        return std::string_view(e.extensionName) == VK_EXT_PCI_BUS_INFO_EXTENSION_NAME;
    });
    if (!offered) return {};
    VkPhysicalDevicePCIBusInfoPropertiesEXT pci{};
    pci.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PCI_BUS_INFO_PROPERTIES_EXT;
    VkPhysicalDeviceProperties2 properties{};
    properties.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    properties.pNext = &pci;
    vkGetPhysicalDeviceProperties2(physical, &properties);
    return QStringLiteral("%1:%2:%3.%4")
        .arg(pci.pciDomain, 4, 16, QLatin1Char('0'))
        .arg(pci.pciBus, 2, 16, QLatin1Char('0'))
        .arg(pci.pciDevice, 2, 16, QLatin1Char('0'))
        .arg(pci.pciFunction, 1, 16, QLatin1Char('0'));
}

}  // namespace

std::vector<ComputeDevice> listComputeDevices(QString* note) {
    std::vector<ComputeDevice> out;
    try {
        vulkan::Instance instance;
        for (const vulkan::DeviceInfo& d : vulkan::listDevices(instance)) {
            ComputeDevice c;
            c.id = QStringLiteral("vulkan:") +
                   QString::fromLatin1(QByteArray(reinterpret_cast<const char*>(d.deviceUUID.data()),
                                                  static_cast<qsizetype>(d.deviceUUID.size()))
                                           .toHex());
            c.name = QString::fromStdString(d.name);
            c.kind = kindOf(d.type);
            c.memoryBytes = static_cast<qint64>(d.deviceLocalBytes);
            c.vulkanIndex = static_cast<int>(d.index);
            c.usable = d.usable;
            c.vendorId = d.vendorId;
            c.uuid = QByteArray(reinterpret_cast<const char*>(d.deviceUUID.data()),
                                static_cast<qsizetype>(d.deviceUUID.size()));
            c.pciAddress = pciAddressOf(d.physicalDevice);
            c.unusableReason = QString::fromStdString(d.unusableReason);
            out.push_back(c);
        }
    } catch (const Error& e) {
        if (note) *note = QStringLiteral("no Vulkan device: %1").arg(QString::fromStdString(e.message()));
    }
    ComputeDevice cpu;
    cpu.id = QStringLiteral("cpu");
    cpu.name = QStringLiteral("CPU (%1 threads)").arg(std::max(1u, std::thread::hardware_concurrency()));
    cpu.kind = QStringLiteral("CPU");
    out.push_back(cpu);
    return out;
}

WorkerDevice workerDeviceFor(const QString& chosen, const std::vector<ComputeDevice>& devices) {
    WorkerDevice pick;
    QStringList missing;
    for (const QString& raw : chosen.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QString id = raw.trimmed();
        for (const ComputeDevice& d : devices) {
            if (d.id != id) continue;
            if (!d.usable) break;
            pick.id = d.id;
            pick.selector = d.vulkanIndex >= 0 ? QStringLiteral("vulkan:%1").arg(d.vulkanIndex) : QStringLiteral("cpu");
            if (!missing.isEmpty())
                pick.note = QStringLiteral("the first device chosen is not available now; computing on %1").arg(d.name);
            return pick;
        }
        missing << id;
    }
    pick.id = pick.selector = QStringLiteral("cpu");
    if (!missing.isEmpty())
        pick.note = QStringLiteral("the device chosen (%1) is not available now; computing on the CPU")
                        .arg(missing.join(QStringLiteral(", ")));
    return pick;
}

}  // namespace raven::contributor
