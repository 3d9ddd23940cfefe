#pragma once
// The compute devices a volunteer can donate, named by what stays true across reboots and driver
// updates: "vulkan:<device UUID>" (VkPhysicalDeviceIDProperties::deviceUUID), never the loader's
// index, which changes when a device is added or the driver reorders them; and "cpu".
//
//   auto devices = listComputeDevices();                        // Vulkan devices, then the CPU
//   WorkerDevice pick = workerDeviceFor("vulkan:6c1a...,cpu", devices);
//   options.device = pick.selector;                             // "vulkan:1" today, for core/worker
//   if (!pick.note.isEmpty()) log(pick.note);                   // "the chosen GPU is absent: CPU"
#include <QByteArray>
#include <QString>

#include <cstdint>

#include <vector>

namespace raven::contributor {

struct ComputeDevice {
    QString id;              // "cpu" or "vulkan:<uuid hex>"
    QString name;            // "NVIDIA GeForce RTX 4070", "CPU (16 threads)"
    QString kind;            // "discrete GPU", "integrated GPU", "CPU (Vulkan)", "CPU"
    qint64 memoryBytes = 0;  // device-local memory; 0 for the CPU
    int vulkanIndex = -1;    // the loader's index today (what core/worker's "vulkan:N" means)
    bool usable = true;
    QString unusableReason;
    // For the temperature sensors (TemperatureSensors.h): the PCI vendor, the 16 bytes of the UUID,
    // and the PCI address "0000:03:00.0" where the driver offers VK_EXT_pci_bus_info (else empty).
    std::uint32_t vendorId = 0;
    QByteArray uuid;
    QString pciAddress;
};

// Vulkan devices (when a driver is installed) and the CPU, last. Never throws; *note says why Vulkan
// is absent when it is.
std::vector<ComputeDevice> listComputeDevices(QString* note = nullptr);

struct WorkerDevice {
    QString selector;  // for WorkerOptions::device: "cpu" or "vulkan:N"
    QString id;        // the chosen ComputeDevice::id
    QString note;      // empty, or why the first choice is not used
};

// The first device of `chosen` (comma-separated ids, in order of preference) present and usable now;
// the CPU when none is (with a note saying so).
WorkerDevice workerDeviceFor(const QString& chosen, const std::vector<ComputeDevice>& devices);

}  // namespace raven::contributor
