#include "worker/WorkerDevice.h"

#include <QDebug>
#include <QFile>
#include <QRegularExpression>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include "base/Error.h"
#include "cpu/CpuBackend.h"
#include "tensor/Random.h"
#include "tensor/TensorOps.h"
#include "vulkan/Instance.h"
#include "vulkan/backend/VulkanBackend.h"

namespace raven::worker {
namespace {

wire::DeviceType wireType(vulkan::DeviceType type) {
    switch (type) {
        case vulkan::DeviceType::Discrete:
            return wire::DEVICE_TYPE_DISCRETE_GPU;
        case vulkan::DeviceType::Integrated:
            return wire::DEVICE_TYPE_INTEGRATED_GPU;
        case vulkan::DeviceType::Virtual:
            return wire::DEVICE_TYPE_VIRTUAL_GPU;
        case vulkan::DeviceType::Cpu:
            return wire::DEVICE_TYPE_CPU;
        case vulkan::DeviceType::Other:
            break;
    }
    return wire::DEVICE_TYPE_UNSPECIFIED;
}

// Measured speeds by device, for the life of the process: a benchmark per worker would be wasted.
std::mutex speedsMutex;
std::map<std::string, double>& measuredSpeeds() {
    static std::map<std::string, double> speeds;
    return speeds;
}

}  // namespace

QString cpuModelName() {
    QFile file(QStringLiteral("/proc/cpuinfo"));
    if (file.open(QIODevice::ReadOnly)) {
        static const QRegularExpression line(QStringLiteral("^model name\\s*:\\s*(.+)$"),
                                             QRegularExpression::MultilineOption);
        const QRegularExpressionMatch m = line.match(QString::fromUtf8(file.readAll()));
        if (m.hasMatch()) return m.captured(1).simplified();
    }
    return QStringLiteral("CPU");
}

std::uint64_t physicalMemoryBytes() {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || pageSize <= 0) return 0;
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(pageSize);
}

double benchmarkMatmulGflops(Backend& backend, int n, int budgetMs) {
    using Clock = std::chrono::steady_clock;
    Generator generator(12345);
    const Tensor a = uniform({n, n}, -1.0f, 1.0f, generator, backend);
    const Tensor b = uniform({n, n}, -1.0f, 1.0f, generator, backend);
    const auto run = [&](int times) {
        const auto start = Clock::now();
        for (int i = 0; i < times; ++i) (void)matmul(a, b);
        backend.synchronize();
        return std::chrono::duration<double>(Clock::now() - start).count();
    };
    const double first = run(1);  // warm-up: pipelines, caches, thread start
    const int reps = std::clamp(static_cast<int>(budgetMs / 1000.0 / std::max(first, 1e-6)), 1, 64);
    const double seconds = run(reps);
    const double flops = 2.0 * n * n * static_cast<double>(n) * reps;
    return flops / std::max(seconds, 1e-9) / 1e9;
}

WorkerDevice::WorkerDevice(const QString& selector, int threads) : threads_(threads) {
    const auto useCpu = [this] {
        auto cpu = std::make_unique<CpuBackend>(threads_);
        device_.set_name(QStringLiteral("%1 (%2 threads)").arg(cpuModelName()).arg(cpu->threadCount()).toStdString());
        device_.set_type(wire::DEVICE_TYPE_CPU);
        device_.set_memory_bytes(physicalMemoryBytes());
        device_.set_backend("cpu");
        backend_ = std::move(cpu);
    };
    if (selector == QLatin1String("cpu")) {
        useCpu();
        return;
    }
    RAVEN_CHECK(selector == QLatin1String("vulkan") || selector.startsWith(QLatin1String("vulkan:")),
                "unknown device '" + selector.toStdString() + "'",
                "use cpu, vulkan, or vulkan:N with N from `raven devices`");
    const std::string which = selector == QLatin1String("vulkan") ? std::string() : selector.mid(7).toStdString();
    try {
        backend_ = makeVulkanBackend(which);
        const vulkan::DeviceInfo& info = dynamic_cast<VulkanBackend&>(*backend_).device().info();
        device_.set_name(info.name);
        device_.set_type(wireType(info.type));
        device_.set_memory_bytes(info.deviceLocalBytes);
        device_.set_backend("vulkan");
    } catch (const Error& e) {
        // A lent machine is still worth something without its GPU: compute on the CPU and say why.
        backend_.reset();
        note_ = QStringLiteral("cannot compute on Vulkan device '%1' (%2); computing on the CPU instead")
                    .arg(selector, QString::fromStdString(e.message()));
        useCpu();
    }
}

WorkerDevice::~WorkerDevice() {
    // With RAVEN_VULKAN_VALIDATION=1 the validation layer's findings are worth a warning each.
    auto* vulkan = dynamic_cast<VulkanBackend*>(backend_.get());
    if (!vulkan) return;
    try {
        vulkan->synchronize();
    } catch (const std::exception& e) {
        qWarning("raven-worker: Vulkan device: %s", e.what());
    }
    for (const std::string& m : vulkan->instance().validationMessages()) qWarning("vulkan validation: %s", m.c_str());
}

QString WorkerDevice::summary() const {
    return QStringLiteral("%1: %2").arg(device_.backend() == "cpu" ? QStringLiteral("CPU") : QStringLiteral("Vulkan"),
                                        QString::fromStdString(device_.name()));
}

double WorkerDevice::measuredGflops() {
    const std::string key = backend_->name() + "/" + device_.name();
    {
        std::lock_guard lock(speedsMutex);
        auto it = measuredSpeeds().find(key);
        if (it != measuredSpeeds().end()) return it->second;
    }
    const double gflops = benchmarkMatmulGflops(*backend_);
    std::lock_guard lock(speedsMutex);
    measuredSpeeds()[key] = gflops;
    return gflops;
}

wire::Device WorkerDevice::describe() {
    device_.set_measured_gflops(measuredGflops());
    return device_;
}

}  // namespace raven::worker
