#include "TemperatureSensors.h"

#include "SysfsLine.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <dlfcn.h>

#include "ComputeDevices.h"

namespace raven::contributor {

namespace {

constexpr std::uint32_t kVendorNvidia = 0x10DE;
constexpr std::uint32_t kVendorAmd = 0x1002;

// A temp*_input in millidegrees; nullopt when unreadable or not a number.
std::optional<double> readMillidegrees(const QString& path) {
    bool ok = false;
    const qint64 milli = readSysfsLine(path).toLongLong(&ok);
    if (!ok) return std::nullopt;
    return static_cast<double>(milli) / 1000.0;
}

QStringList entries(const QString& dir, const QString& pattern) {
    QStringList out;
    for (const QString& name :
         QDir(dir).entryList({pattern}, QDir::Dirs | QDir::Files | QDir::System | QDir::NoDotAndDotDot, QDir::Name))
        out << QDir(dir).filePath(name);
    return out;
}

// The temperature of one hwmon folder: the input whose label is one of `labels` (in that order of
// preference), else, with `anyInput`, the first input.
Temperature fromHwmon(const QString& hwmon, const QStringList& labels, bool anyInput) {
    const QString driver = readSysfsLine(hwmon + QStringLiteral("/name"));
    const QStringList inputs = entries(hwmon, QStringLiteral("temp*_input"));
    for (const QString& wanted : labels)
        for (const QString& input : inputs) {
            const QString labelFile = QString(input).replace(QStringLiteral("_input"), QStringLiteral("_label"));
            if (readSysfsLine(labelFile).compare(wanted, Qt::CaseInsensitive) != 0) continue;
            if (auto c = readMillidegrees(input))
                return {c, QStringLiteral("hwmon %1 (%2)").arg(driver, readSysfsLine(labelFile)), {}};
        }
    if (anyInput)
        for (const QString& input : inputs)
            if (auto c = readMillidegrees(input)) return {c, QStringLiteral("hwmon %1").arg(driver), {}};
    return {};
}

// The PCI address of a DRM card's device: the target of its "device" link, else PCI_SLOT_NAME.
QString pciAddressOf(const QString& card) {
    const QFileInfo link(card + QStringLiteral("/device"));
    if (link.isSymLink()) return QFileInfo(link.symLinkTarget()).fileName();
    QFile uevent(card + QStringLiteral("/device/uevent"));
    if (uevent.open(QIODevice::ReadOnly))
        for (const QByteArray& line : uevent.readAll().split('\n'))
            if (line.startsWith("PCI_SLOT_NAME=")) return QString::fromLatin1(line.mid(14)).trimmed();
    return {};
}

}  // namespace

Temperature amdGpuTemperature(const QString& sysfsRoot, const QString& pciAddress) {
    QStringList amdCards;
    for (const QString& card : entries(sysfsRoot + QStringLiteral("/class/drm"), QStringLiteral("card*"))) {
        if (QFileInfo(card).fileName().contains(QLatin1Char('-'))) continue;  // card0-DP-1: a connector
        bool amdgpu = false;
        for (const QString& hwmon : entries(card + QStringLiteral("/device/hwmon"), QStringLiteral("hwmon*")))
            amdgpu |= readSysfsLine(hwmon + QStringLiteral("/name")) == QLatin1String("amdgpu");
        if (!amdgpu) continue;
        if (!pciAddress.isEmpty() && pciAddressOf(card).compare(pciAddress, Qt::CaseInsensitive) != 0) continue;
        amdCards << card;
    }
    if (amdCards.isEmpty())
        return {std::nullopt,
                {},
                pciAddress.isEmpty()
                    ? QStringLiteral("no amdgpu temperature sensor in sysfs")
                    : QStringLiteral("no amdgpu temperature sensor for PCI device %1").arg(pciAddress)};
    if (amdCards.size() > 1)  // only without a PCI address: which card is it?
        return {std::nullopt,
                {},
                QStringLiteral("%1 AMD cards and no PCI address from Vulkan to tell them apart").arg(amdCards.size())};
    for (const QString& hwmon : entries(amdCards.first() + QStringLiteral("/device/hwmon"), QStringLiteral("hwmon*")))
        if (Temperature t = fromHwmon(hwmon, {QStringLiteral("edge"), QStringLiteral("junction")}, true); t.celsius)
            return t;
    return {std::nullopt,
            {},
            QStringLiteral("the amdgpu sensor of %1 cannot be read").arg(QFileInfo(amdCards.first()).fileName())};
}

Temperature cpuPackageTemperature(const QString& sysfsRoot) {
    const QStringList labels{QStringLiteral("Package id 0"), QStringLiteral("Tdie"), QStringLiteral("Tctl")};
    for (const QString& hwmon : entries(sysfsRoot + QStringLiteral("/class/hwmon"), QStringLiteral("hwmon*"))) {
        const QString driver = readSysfsLine(hwmon + QStringLiteral("/name"));
        if (driver == QLatin1String("coretemp") || driver == QLatin1String("k10temp") ||
            driver == QLatin1String("zenpower")) {
            if (Temperature t = fromHwmon(hwmon, labels, driver != QLatin1String("coretemp")); t.celsius) return t;
        } else if (driver == QLatin1String("cpu_thermal") || driver == QLatin1String("soc_thermal")) {
            if (Temperature t = fromHwmon(hwmon, {}, true); t.celsius) return t;
        }
    }
    for (const QString& zone : entries(sysfsRoot + QStringLiteral("/class/thermal"), QStringLiteral("thermal_zone*"))) {
        const QString type = readSysfsLine(zone + QStringLiteral("/type"));
        if (type != QLatin1String("x86_pkg_temp") && type != QLatin1String("cpu-thermal")) continue;
        if (auto c = readMillidegrees(zone + QStringLiteral("/temp")))
            return {c, QStringLiteral("thermal zone %1").arg(type), {}};
    }
    return {std::nullopt, {}, QStringLiteral("no CPU package temperature sensor (hwmon or thermal zone)")};
}

// --- NVML ---------------------------------------------------------------------------------------------

// The few NVML entry points used, as nvml.h declares them (return 0: NVML_SUCCESS).
struct Nvml::Api {
    using Device = void*;
    int (*init)() = nullptr;
    int (*shutdown)() = nullptr;
    int (*handleByUuid)(const char*, Device*) = nullptr;
    int (*temperature)(Device, int /*NVML_TEMPERATURE_GPU = 0*/, unsigned int*) = nullptr;
    const char* (*errorString)(int) = nullptr;
};

Nvml::Nvml(const QString& library) : api_(std::make_unique<Api>()) {
    handle_ = dlopen(library.toLocal8Bit().constData(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) {
        absence_ =
            QStringLiteral("no NVIDIA management library (%1): %2").arg(library, QString::fromLocal8Bit(dlerror()));
        return;
    }
    auto symbol = [this](const char* name) { return dlsym(handle_, name); };
    api_->init = reinterpret_cast<int (*)()>(symbol("nvmlInit_v2"));
    api_->shutdown = reinterpret_cast<int (*)()>(symbol("nvmlShutdown"));
    api_->handleByUuid = reinterpret_cast<int (*)(const char*, Api::Device*)>(symbol("nvmlDeviceGetHandleByUUID"));
    api_->temperature = reinterpret_cast<int (*)(Api::Device, int, unsigned int*)>(symbol("nvmlDeviceGetTemperature"));
    api_->errorString = reinterpret_cast<const char* (*)(int)>(symbol("nvmlErrorString"));
    if (!api_->init || !api_->shutdown || !api_->handleByUuid || !api_->temperature) {
        absence_ = QStringLiteral(
                       "%1 lacks the NVML functions Raven needs (nvmlInit_v2, "
                       "nvmlDeviceGetHandleByUUID, nvmlDeviceGetTemperature)")
                       .arg(library);
        return;
    }
    if (const int rc = api_->init(); rc != 0) {
        absence_ =
            QStringLiteral("NVML did not start (error %1%2)")
                .arg(rc)
                .arg(api_->errorString ? QStringLiteral(": ") + QString::fromUtf8(api_->errorString(rc)) : QString());
        return;
    }
    initialized_ = true;
}

Nvml::~Nvml() {
    if (initialized_) api_->shutdown();
    if (handle_) dlclose(handle_);
}

QString Nvml::uuidString(const QByteArray& deviceUuid) {
    const QString hex = QString::fromLatin1(deviceUuid.toHex());
    if (hex.size() != 32) return {};
    return QStringLiteral("GPU-%1-%2-%3-%4-%5")
        .arg(hex.mid(0, 8), hex.mid(8, 4), hex.mid(12, 4), hex.mid(16, 4), hex.mid(20, 12));
}

Temperature Nvml::temperature(const QByteArray& deviceUuid) const {
    if (!initialized_) return {std::nullopt, {}, absence_};
    const QString uuid = uuidString(deviceUuid);
    Api::Device device = nullptr;
    if (uuid.isEmpty() || api_->handleByUuid(uuid.toLatin1().constData(), &device) != 0)
        return {std::nullopt, {}, QStringLiteral("NVML does not know the GPU %1").arg(uuid)};
    unsigned int celsius = 0;
    if (const int rc = api_->temperature(device, 0, &celsius); rc != 0)
        return {std::nullopt, {}, QStringLiteral("NVML has no temperature for %1 (error %2)").arg(uuid).arg(rc)};
    return {static_cast<double>(celsius), QStringLiteral("NVML"), {}};
}

// --- by device ----------------------------------------------------------------------------------------

TemperatureSensors::TemperatureSensors(QString sysfsRoot, QString nvmlLibrary)
    : sysfsRoot_(std::move(sysfsRoot)), nvmlLibrary_(std::move(nvmlLibrary)) {}

TemperatureSensors::~TemperatureSensors() = default;

Temperature TemperatureSensors::read(const ComputeDevice& device) {
    // The CPU, and Vulkan on the CPU (lavapipe), heat the CPU package.
    if (device.vulkanIndex < 0 || device.kind == QLatin1String("CPU (Vulkan)"))
        return cpuPackageTemperature(sysfsRoot_);
    if (device.vendorId == kVendorNvidia) {
        if (!nvml_) nvml_ = std::make_unique<Nvml>(nvmlLibrary_);
        return nvml_->temperature(device.uuid);
    }
    if (device.vendorId == kVendorAmd) return amdGpuTemperature(sysfsRoot_, device.pciAddress);
    return {std::nullopt, {}, QStringLiteral("no temperature sensor known for %1").arg(device.name)};
}

}  // namespace raven::contributor
