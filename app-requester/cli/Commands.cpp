#include "Commands.h"

#include <array>

namespace raven::cli {

std::span<const Command> commands() {
    static const std::array table{
        Command{"dataset", "Import files as a dataset of shards (import), describe one (info)", datasetCommand},
        Command{"train", "Train a model spec on a dataset here (--local) or on local workers (--workers N)",
                trainCommand},
        Command{"eval", "Test accuracy and loss of a checkpoint on a dataset", evalCommand},
        Command{"grad", "Loss and parameter gradients for one batch (to compare with PyTorch)", gradCommand},
        Command{"submit", "Submit a training job to a coordinator, for volunteers' machines to compute", submitCommand},
        Command{"jobs", "List your jobs on the coordinator", jobsCommand},
        Command{"watch", "Follow a job live: steps, loss, throughput, evaluations", watchCommand},
        Command{"pull", "Download a job's checkpoint", pullCommand},
        Command{"pause", "Pause a job", pauseCommand},
        Command{"resume", "Resume a paused job", resumeCommand},
        Command{"cancel", "Cancel a job; its unspent budget comes back", cancelCommand},
        Command{"balance", "Your credits on the coordinator", balanceCommand},
        Command{"devices", "List the compute devices (Vulkan GPUs and the CPU) Raven can use", devicesCommand},
    };
    return table;
}

}  // namespace raven::cli
