#include "ProcessMemory.h"

#include <fstream>
#include <string>

namespace raven::bench {

namespace {
double statusKiB(const std::string& key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, key.size(), key) == 0 && line.size() > key.size() && line[key.size()] == ':')
            return std::stod(line.substr(key.size() + 1));  // "VmHWM:    123456 kB"
    }
    return 0.0;
}
}  // namespace

double peakResidentMiB() { return statusKiB("VmHWM") / 1024.0; }
double residentMiB() { return statusKiB("VmRSS") / 1024.0; }

}  // namespace raven::bench
