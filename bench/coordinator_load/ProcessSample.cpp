#include "ProcessSample.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace raven::bench {

namespace {

int countDescriptors(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/fd";
    DIR* dir = opendir(path.c_str());
    if (!dir) return -1;
    int count = 0;
    while (const dirent* entry = readdir(dir))
        if (entry->d_name[0] != '.') ++count;
    closedir(dir);
    return count;
}

}  // namespace

ProcessSample ProcessSample::of(pid_t pid) {
    ProcessSample sample;
    const std::string base = "/proc/" + std::to_string(pid);
    std::ifstream stat(base + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return sample;
    // The command name (field 2) may hold spaces: fields are counted from after its closing parenthesis.
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos) return sample;
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    long long utime = 0, stime = 0;
    for (int i = 3; fields >> field; ++i) {  // field 3 is the state
        if (i == 14) utime = std::stoll(field);
        if (i == 15) {
            stime = std::stoll(field);
            break;
        }
    }
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    sample.cpuSeconds = static_cast<double>(utime + stime) / ticks;
    std::ifstream status(base + "/status");
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) sample.rssBytes = std::stoll(line.substr(6)) * 1024;
        if (line.rfind("Threads:", 0) == 0) sample.threads = std::stoi(line.substr(8));
    }
    sample.openDescriptors = countDescriptors(pid);
    sample.valid = true;
    return sample;
}

}  // namespace raven::bench
