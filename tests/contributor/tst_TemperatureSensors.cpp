// The temperature cap's sensors on real files: a sysfs tree the test writes (AMD cards found by PCI
// address, through the uevent or the "device" link as the kernel makes it; CPU packages of coretemp,
// k10temp and thermal zones), sensors that are absent said so and never guessed; NVML, which is not
// installed here, reports its absence cleanly (the library missing, or a library without its
// functions). And the service: a CPU over the cap pauses it, with the hysteresis before it computes
// again.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "ComputeDevices.h"
#include "ContributionService.h"
#include "ContributorConfig.h"
#include "DesktopMonitor.h"
#include "QuietDesktop.h"
#include "TemperatureSensors.h"

using namespace raven::contributor;

namespace {

void write(const QString& path, const QByteArray& text) {
    QDir().mkpath(QFileInfo(path).path());
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(path));
    f.write(text + "\n");
}

// An amdgpu card at `pci` with an edge and a junction sensor, found through its uevent.
void amdCard(const QString& root, const QString& card, const QByteArray& pci, const QByteArray& edgeMilli) {
    const QString device = root + "/class/drm/" + card + "/device";
    write(device + "/uevent", "DRIVER=amdgpu\nPCI_CLASS=30000\nPCI_SLOT_NAME=" + pci);
    write(device + "/hwmon/hwmon3/name", "amdgpu");
    write(device + "/hwmon/hwmon3/temp1_label", "edge");
    write(device + "/hwmon/hwmon3/temp1_input", edgeMilli);
    write(device + "/hwmon/hwmon3/temp2_label", "junction");
    write(device + "/hwmon/hwmon3/temp2_input", "99000");
}

}  // namespace

class TestTemperatureSensors : public QObject {
    Q_OBJECT

private slots:
    void amdGpuByPciAddress() {
        QTemporaryDir root;
        amdCard(root.path(), "card0", "0000:03:00.0", "61000");
        amdCard(root.path(), "card1", "0000:04:00.0", "45500");
        write(root.path() + "/class/drm/card0-DP-1/status", "connected");  // a connector, not a card
        Temperature t = amdGpuTemperature(root.path(), "0000:04:00.0");
        QVERIFY(t.celsius);
        QCOMPARE(*t.celsius, 45.5);
        QCOMPARE(t.source, QStringLiteral("hwmon amdgpu (edge)"));
        t = amdGpuTemperature(root.path(), "0000:03:00.0");
        QCOMPARE(t.celsius.value_or(0), 61.0);
        // Another address: absent, and said so.
        t = amdGpuTemperature(root.path(), "0000:09:00.0");
        QVERIFY(!t.celsius);
        QVERIFY2(t.absence.contains("0000:09:00.0"), qPrintable(t.absence));
        // No address from Vulkan and two cards: not guessed.
        t = amdGpuTemperature(root.path(), {});
        QVERIFY(!t.celsius);
        QVERIFY2(t.absence.contains("2 AMD cards"), qPrintable(t.absence));
    }

    void amdGpuThroughTheDeviceLink() {
        // As the kernel lays it out: cardN/device is a link to the PCI device's folder.
        QTemporaryDir root;
        const QString pciDir = root.path() + "/devices/pci0000:00/0000:00:01.0/0000:0a:00.0";
        write(pciDir + "/hwmon/hwmon5/name", "amdgpu");
        write(pciDir + "/hwmon/hwmon5/temp1_input", "72000");  // unlabelled: the first input
        QDir().mkpath(root.path() + "/class/drm/card2");
        QVERIFY(QFile::link(pciDir, root.path() + "/class/drm/card2/device"));
        Temperature t = amdGpuTemperature(root.path(), "0000:0a:00.0");
        QCOMPARE(t.celsius.value_or(0), 72.0);
        QCOMPARE(t.source, QStringLiteral("hwmon amdgpu"));
        // The only AMD card: found without an address too.
        QCOMPARE(amdGpuTemperature(root.path(), {}).celsius.value_or(0), 72.0);
    }

    void cpuPackage() {
        QTemporaryDir intel;
        write(intel.path() + "/class/hwmon/hwmon0/name", "acpitz");  // not the CPU's
        write(intel.path() + "/class/hwmon/hwmon0/temp1_input", "27800");
        write(intel.path() + "/class/hwmon/hwmon1/name", "coretemp");
        write(intel.path() + "/class/hwmon/hwmon1/temp2_label", "Core 0");
        write(intel.path() + "/class/hwmon/hwmon1/temp2_input", "58000");
        write(intel.path() + "/class/hwmon/hwmon1/temp1_label", "Package id 0");
        write(intel.path() + "/class/hwmon/hwmon1/temp1_input", "63000");
        Temperature t = cpuPackageTemperature(intel.path());
        QCOMPARE(t.celsius.value_or(0), 63.0);
        QCOMPARE(t.source, QStringLiteral("hwmon coretemp (Package id 0)"));

        QTemporaryDir amd;
        write(amd.path() + "/class/hwmon/hwmon2/name", "k10temp");
        write(amd.path() + "/class/hwmon/hwmon2/temp1_label", "Tctl");
        write(amd.path() + "/class/hwmon/hwmon2/temp1_input", "74250");
        t = cpuPackageTemperature(amd.path());
        QCOMPARE(t.celsius.value_or(0), 74.25);
        QCOMPARE(t.source, QStringLiteral("hwmon k10temp (Tctl)"));

        QTemporaryDir zone;
        write(zone.path() + "/class/thermal/thermal_zone0/type", "acpitz");
        write(zone.path() + "/class/thermal/thermal_zone0/temp", "30000");
        write(zone.path() + "/class/thermal/thermal_zone1/type", "x86_pkg_temp");
        write(zone.path() + "/class/thermal/thermal_zone1/temp", "51000");
        t = cpuPackageTemperature(zone.path());
        QCOMPARE(t.celsius.value_or(0), 51.0);
        QCOMPARE(t.source, QStringLiteral("thermal zone x86_pkg_temp"));
    }

    void absentSensorsAreSaidAbsent() {
        QTemporaryDir empty;
        Temperature t = cpuPackageTemperature(empty.path());
        QVERIFY(!t.celsius);
        QVERIFY2(t.absence.contains("no CPU package temperature sensor"), qPrintable(t.absence));
        // A sensor file that does not hold a number is not a reading.
        write(empty.path() + "/class/hwmon/hwmon0/name", "coretemp");
        write(empty.path() + "/class/hwmon/hwmon0/temp1_label", "Package id 0");
        write(empty.path() + "/class/hwmon/hwmon0/temp1_input", "N/A");
        QVERIFY(!cpuPackageTemperature(empty.path()).celsius);
        t = amdGpuTemperature(empty.path(), "0000:03:00.0");
        QVERIFY(!t.celsius);
        QVERIFY(!t.absence.isEmpty());
    }

    void nvmlAbsentIsReportedCleanly() {
        Nvml missing;  // libnvidia-ml.so.1: not on this machine (no NVIDIA driver)
        if (missing.available()) QSKIP("an NVIDIA driver is installed here: NVML is present");
        QVERIFY2(missing.absence().contains("libnvidia-ml.so.1"), qPrintable(missing.absence()));
        const QByteArray uuid = QByteArray::fromHex("6c1a2b3c4d5e6f708192a3b4c5d6e7f8");
        Temperature t = missing.temperature(uuid);
        QVERIFY(!t.celsius);
        QCOMPARE(t.absence, missing.absence());
        // A library that is there but is not NVML.
        Nvml wrong(QStringLiteral("libz.so.1"));
        QVERIFY(!wrong.available());
        QVERIFY2(wrong.absence().contains("lacks the NVML functions"), qPrintable(wrong.absence()));
        QCOMPARE(Nvml::uuidString(uuid), QStringLiteral("GPU-6c1a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8"));
        QVERIFY(Nvml::uuidString("short").isEmpty());

        // By device: an NVIDIA GPU reads NVML (absent here), an unknown vendor has no sensor, the CPU
        // and lavapipe read the CPU package.
        QTemporaryDir root;
        write(root.path() + "/class/hwmon/hwmon1/name", "coretemp");
        write(root.path() + "/class/hwmon/hwmon1/temp1_label", "Package id 0");
        write(root.path() + "/class/hwmon/hwmon1/temp1_input", "66000");
        TemperatureSensors sensors(root.path());
        ComputeDevice nvidia;
        nvidia.name = "NVIDIA GeForce RTX 4070";
        nvidia.kind = "discrete GPU";
        nvidia.vulkanIndex = 0;
        nvidia.vendorId = 0x10DE;
        nvidia.uuid = uuid;
        t = sensors.read(nvidia);
        QVERIFY(!t.celsius);
        QVERIFY2(t.absence.contains("libnvidia-ml.so.1"), qPrintable(t.absence));
        ComputeDevice intel = nvidia;
        intel.name = "Intel(R) Arc(tm) A770";
        intel.vendorId = 0x8086;
        t = sensors.read(intel);
        QVERIFY(!t.celsius);
        QVERIFY2(t.absence.contains("Arc"), qPrintable(t.absence));
        ComputeDevice lavapipe = intel;
        lavapipe.kind = "CPU (Vulkan)";
        lavapipe.vendorId = 0x10005;
        QCOMPARE(sensors.read(lavapipe).celsius.value_or(0), 66.0);
        ComputeDevice cpu;
        cpu.kind = "CPU";
        QCOMPARE(sensors.read(cpu).celsius.value_or(0), 66.0);
    }

    // The service reads the chosen device's sensor (the CPU here) and pauses at the cap, then computes
    // again only once the device is the hysteresis below it.
    void serviceCoolsDownWithHysteresis() {
        QTemporaryDir dir;
        const QString sensor = dir.filePath("sys/class/hwmon/hwmon1/temp1_input");
        write(dir.filePath("sys/class/hwmon/hwmon1/name"), "coretemp");
        write(dir.filePath("sys/class/hwmon/hwmon1/temp1_label"), "Package id 0");
        write(sensor, "86000");
        ContributorConfig config(dir.filePath("contributor.ini"));
        // A coordinator nobody answers: the worker keeps trying, which is all this test needs.
        QVERIFY(config.set(ConfigKey::CoordinatorUrl, "wss://127.0.0.1:9"));
        QVERIFY(config.set(ConfigKey::ContributorToken, "token"));
        QVERIFY(config.set(ConfigKey::ComputeWhen, "always"));
        QVERIFY(config.set(ConfigKey::TemperatureCapCelsius, 80));
        QVERIFY(config.set(ConfigKey::TemperatureHysteresis, 5));
        QString why;
        QVERIFY(!config.set(ConfigKey::TemperatureCapCelsius, 20, &why));
        QVERIFY2(why.contains("40 C"), qPrintable(why));
        const auto desktop = quietDesktop();
        ContributionService service(config, *desktop);
        service.setCacheDir(dir.filePath("cache"));
        service.setKnownHostsPath(dir.filePath("known_hosts"));
        service.setTemperatureSensors(std::make_unique<TemperatureSensors>(dir.filePath("sys")));
        service.start();
        QCOMPARE(service.statusSentence(), QStringLiteral("paused: CPU at 86 C (cap 80 C)"));
        QCOMPARE(service.temperature().source, QStringLiteral("hwmon coretemp (Package id 0)"));
        QVERIFY(!service.workerRunning());
        write(sensor, "78000");
        service.reevaluate();
        QCOMPARE(service.statusSentence(), QStringLiteral("paused: CPU at 78 C, cooling down to 75 C (cap 80 C)"));
        write(sensor, "74000");
        service.reevaluate();
        QCOMPARE(service.decision().state, PolicyDecision::State::Computing);
        QCOMPARE(service.stateName(), QStringLiteral("waiting"));  // allowed, but no unit in hand
        QVERIFY(service.workerRunning());
        write(sensor, "79000");  // under the cap, no longer cooling down: keeps computing
        service.reevaluate();
        QCOMPARE(service.decision().state, PolicyDecision::State::Computing);
        QCOMPARE(service.stateName(), QStringLiteral("waiting"));  // allowed, but no unit in hand
        write(sensor, "81000");
        service.reevaluate();
        QCOMPARE(service.statusSentence(), QStringLiteral("paused: CPU at 81 C (cap 80 C)"));
        // A sensor that disappears is not guessed: the cap has nothing to go by.
        QFile::remove(sensor);
        service.reevaluate();
        QVERIFY(!service.temperature().celsius);
        QVERIFY(!service.temperature().absence.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestTemperatureSensors)
#include "tst_TemperatureSensors.moc"
