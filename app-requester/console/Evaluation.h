#pragma once
// Evaluation: a checkpoint measured on a dataset's test split, on this machine's CPU: accuracy,
// per-class precision and recall, and the confusion matrix with the samples behind each cell (so
// that the results page opens the misclassified samples). Classification datasets only (one label
// per sample); plain C++ over core/nn, run off the GUI thread by ResultsService.
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <atomic>
#include <cstdint>
#include <vector>

namespace raven::console {

struct Evaluation {
    QStringList classes;
    std::int64_t samples = 0;
    double accuracy = 0;
    // confusion[truth][predicted]: how many test samples of class `truth` the model called `predicted`.
    std::vector<std::vector<std::int64_t>> confusion;
    // cellSamples[truth][predicted]: up to 64 test-sample indices of that cell.
    std::vector<std::vector<std::vector<std::int64_t>>> cellSamples;

    double precision(int c) const;  // of the samples predicted c, the share that are c (0 when none)
    double recall(int c) const;     // of the samples that are c, the share predicted c
};

// raven::Error when the checkpoint or the dataset cannot be read, or they do not fit each other.
Evaluation evaluateCheckpoint(const QString& checkpointPath, const QString& datasetPath,
                              const std::atomic_bool& cancelled);

}  // namespace raven::console

Q_DECLARE_METATYPE(raven::console::Evaluation)
