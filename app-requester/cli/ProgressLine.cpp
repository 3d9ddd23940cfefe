#include "ProgressLine.h"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace raven::cli {

ProgressLine::ProgressLine() : terminal_(isatty(fileno(stderr)) != 0) {}

void ProgressLine::show(int epoch, int epochs, std::int64_t done, std::int64_t total, double loss,
                        double samplesPerSecond) {
    constexpr int kWidth = 30;
    const int filled = total > 0 ? int(kWidth * done / total) : 0;
    std::string bar(std::size_t(filled), '=');
    if (filled < kWidth) bar += '>';
    bar.resize(kWidth, ' ');
    std::fprintf(stderr, "%sepoch %d/%d [%s] %lld/%lld  loss %.4f  %.0f samples/s%s", terminal_ ? "\r" : "", epoch + 1,
                 epochs, bar.c_str(), (long long)done, (long long)total, loss, samplesPerSecond,
                 terminal_ ? "\033[K" : "\n");
    std::fflush(stderr);
    shown_ = true;
}

void ProgressLine::clear() {
    if (terminal_ && shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
}

}  // namespace raven::cli
