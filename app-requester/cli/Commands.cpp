#include "Commands.h"

#include <array>

namespace raven::cli {

std::span<const Command> commands() {
    static const std::array table{
        Command{"dataset", "Import files as a dataset of shards (import), describe one (info)", datasetCommand},
        Command{"train", "Train a model spec on a dataset (--local: on this machine)", trainCommand},
        Command{"eval", "Test accuracy and loss of a checkpoint on a dataset", evalCommand},
        Command{"grad", "Loss and parameter gradients for one batch (to compare with PyTorch)", gradCommand},
        Command{"devices", "List the compute devices (Vulkan GPUs and the CPU) Raven can use", devicesCommand},
    };
    return table;
}

}  // namespace raven::cli
