#include "Commands.h"

#include <array>

namespace raven::cli {

std::span<const Command> commands() {
    static const std::array table{
        Command{"devices", "List the compute devices (Vulkan GPUs and the CPU) Raven can use", devicesCommand},
    };
    return table;
}

}  // namespace raven::cli
