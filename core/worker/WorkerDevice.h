#pragma once
// WorkerDevice: the backend a worker computes on, how it describes it to the coordinator
// (RegisterContributor.devices) and how fast it is on Raven's own kernels.
//
//   WorkerDevice device("vulkan", 0);          // or "cpu", "vulkan:1"; 0 threads = every core
//   if (!device.note().isEmpty()) log(device.note());   // "no Vulkan device ...; computing on the CPU"
//   wire::Device d = device.describe();         // name, type, memory, backend, measured_gflops
//
// A worker is lent a machine, not given it: when the Vulkan device cannot be opened (no driver, no
// device of that index) it computes on the CPU and says so, rather than refusing to help. The CPU
// backend is the worker's own (with its own thread count), not the process-wide one, so a worker
// inside another program (the tray app, `raven train` with local workers) leaves that program's
// threads alone.
//
// Speed: measuredGflops() multiplies square fp32 matrices with the backend's matmul for about a
// quarter of a second (never more than one) and reports GFLOP/s. It is measured once per process per
// device; a second worker on the same device reuses the figure.
#include <QString>

#include <cstdint>
#include <memory>

#include "protocol/raven.pb.h"
#include "tensor/Backend.h"

namespace raven::worker {

class WorkerDevice {
public:
    // Opens the device; raven::Error for an unknown selector (what is not cpu, vulkan or vulkan:N).
    WorkerDevice(const QString& selector, int threads);
    ~WorkerDevice();
    WorkerDevice(const WorkerDevice&) = delete;
    WorkerDevice& operator=(const WorkerDevice&) = delete;

    Backend& backend() { return *backend_; }
    // Why the device is not the one asked for (a Vulkan failure); empty when it is.
    const QString& note() const { return note_; }
    // "CPU: Intel(R) Xeon(R) ... (2 threads)" or "Vulkan: NVIDIA GeForce RTX 3060".
    QString summary() const;
    // The wire description, with the measured speed (measuring it the first time).
    wire::Device describe();
    double measuredGflops();

private:
    std::unique_ptr<Backend> backend_;
    wire::Device device_;
    QString note_;
    int threads_ = 0;
};

// The CPU's model name from /proc/cpuinfo ("model name"), or "CPU" when it cannot be read.
QString cpuModelName();
// Physical memory in bytes (sysconf), 0 when unknown.
std::uint64_t physicalMemoryBytes();
// GFLOP/s of backend.matmul on n x n fp32 matrices, timed for about budgetMs after one warm-up.
double benchmarkMatmulGflops(Backend& backend, int n = 512, int budgetMs = 250);

}  // namespace raven::worker
