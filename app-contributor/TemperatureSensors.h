#pragma once
// TemperatureSensors: the temperature of the device Raven computes on, where the device reports one,
// for the temperature cap. A sensor that is not there is said to be absent (with why), never guessed.
//
//   TemperatureSensors sensors;                         // "/sys", libnvidia-ml.so.1
//   Temperature t = sensors.read(device);               // device: a ComputeDevice from listComputeDevices
//   if (t.celsius) ... *t.celsius, t.source             // 71.0, "NVML"
//   else ... t.absence                                  // "no temperature sensor found for llvmpipe"
//
// Where each comes from:
//  - NVIDIA GPUs: NVML, loaded with dlopen("libnvidia-ml.so.1") (part of NVIDIA's driver; nothing to
//    link at build time): nvmlInit_v2, nvmlDeviceGetHandleByUUID with the Vulkan device UUID written
//    as NVML writes it ("GPU-xxxxxxxx-xxxx-..."; the same 16 bytes), nvmlDeviceGetTemperature.
//  - AMD GPUs: the amdgpu driver's hwmon in sysfs, /sys/class/drm/cardN/device/hwmon/hwmon*/temp*_input
//    (the "edge" sensor when labelled), the card found by the PCI address Vulkan reports
//    (VK_EXT_pci_bus_info); without one, the only amdgpu card when there is exactly one.
//  - The CPU: the package sensor of the CPU's hwmon driver (coretemp "Package id 0", k10temp and
//    zenpower "Tdie"/"Tctl", cpu_thermal on ARM boards), else the thermal zone x86_pkg_temp or
//    cpu-thermal.
//  - Anything else (lavapipe computes on the CPU, so it reads the CPU's): absent.
// The sysfs root is a parameter so that tests run the readers on a directory tree they write.
#include <QByteArray>
#include <QString>

#include <memory>
#include <optional>

namespace raven::contributor {

struct ComputeDevice;

struct Temperature {
    std::optional<double> celsius;  // nullopt: no sensor
    QString source;                 // "NVML", "hwmon amdgpu (edge)", "hwmon coretemp (Package id 0)"
    QString absence;                // why there is none, for the status and the dashboard
};

// AMD GPU through sysfs hwmon; pciAddress "0000:03:00.0" (empty: unknown).
Temperature amdGpuTemperature(const QString& sysfsRoot, const QString& pciAddress);
// The CPU package through hwmon, else a thermal zone.
Temperature cpuPackageTemperature(const QString& sysfsRoot);

// NVIDIA's management library, loaded at run time. Absent (with why) when the library, its functions
// or its initialization are missing; the library stays loaded for the object's life.
class Nvml {
public:
    explicit Nvml(const QString& library = QStringLiteral("libnvidia-ml.so.1"));
    ~Nvml();
    Nvml(const Nvml&) = delete;
    Nvml& operator=(const Nvml&) = delete;

    bool available() const { return initialized_; }
    const QString& absence() const { return absence_; }
    // The GPU with this Vulkan device UUID (16 bytes).
    Temperature temperature(const QByteArray& deviceUuid) const;
    // "GPU-6c1a2b3c-..." as NVML names a device, from the 16 bytes of a Vulkan device UUID.
    static QString uuidString(const QByteArray& deviceUuid);

private:
    struct Api;
    std::unique_ptr<Api> api_;
    void* handle_ = nullptr;
    bool initialized_ = false;
    QString absence_;
};

class TemperatureSensors {
public:
    explicit TemperatureSensors(QString sysfsRoot = QStringLiteral("/sys"),
                                QString nvmlLibrary = QStringLiteral("libnvidia-ml.so.1"));
    ~TemperatureSensors();

    Temperature read(const ComputeDevice& device);

private:
    QString sysfsRoot_;
    QString nvmlLibrary_;
    std::unique_ptr<Nvml> nvml_;  // loaded the first time an NVIDIA device is read
};

}  // namespace raven::contributor
