#pragma once
// One self-overwriting line on stderr: "epoch 1/5 [=====>      ] 23040/60000  loss 0.5231  41234 samples/s".
// Only on a terminal; when stderr is a file or a pipe, a line every report keeps logs readable.
#include <cstdint>

namespace raven::cli {

class ProgressLine {
public:
    ProgressLine();
    void show(int epoch, int epochs, std::int64_t done, std::int64_t total, double loss, double samplesPerSecond);
    // Erases the line (before printing something else).
    void clear();

private:
    bool terminal_;
    bool shown_ = false;
};

}  // namespace raven::cli
