#pragma once
// ProcessSample: what one process costs right now, read from /proc/<pid>: CPU time (user + system),
// resident memory and open file descriptors. Two samples apart give the CPU spent between them.
//
//   ProcessSample before = ProcessSample::of(pid);
//   ...
//   ProcessSample after = ProcessSample::of(pid);
//   double cpuSeconds = after.cpuSeconds - before.cpuSeconds;
#include <sys/types.h>

#include <cstdint>

namespace raven::bench {

struct ProcessSample {
    double cpuSeconds = 0.0;    // utime + stime
    std::int64_t rssBytes = 0;  // VmRSS
    int threads = 0;
    int openDescriptors = 0;  // entries of /proc/<pid>/fd
    bool valid = false;       // false when the process is gone or unreadable

    static ProcessSample of(pid_t pid);
};

}  // namespace raven::bench
