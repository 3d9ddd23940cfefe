#pragma once
// What the kernel says about this process's memory (Linux /proc/self/status), in MiB; 0 where the
// line is missing (another OS). The peer (torch_peer.py) reads the same lines, so both report alike.
namespace raven::bench {

// VmHWM: the peak resident set size since the process started.
double peakResidentMiB();
// VmRSS: the resident set size now.
double residentMiB();

}  // namespace raven::bench
