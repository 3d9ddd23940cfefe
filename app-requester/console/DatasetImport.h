#pragma once
// DatasetImport: what the import dialog asks for, and the import itself (files to a data::Dataset),
// for every format Raven reads. Plain C++ over core/data, run by DatasetLibrary off the GUI thread.
//
//   ImportRequest r;
//   r.format = DatasetFormat::Idx;
//   r.sources = {"/usr/share/datasets/fashion-mnist"};
//   r.maxTrainSamples = 2048;          // a quick subset for a first try
//   data::Dataset ds = importDataset(r, cancelled);   // raven::Error naming the file on bad input
#include <QString>
#include <QStringList>
#include <atomic>

#include "data/Dataset.h"

namespace raven::console {

enum class DatasetFormat { Idx, Csv, Npy, ImageFolder, TextCorpus };

// "IDX (MNIST family)", ... for the dialog's format list, in enum order.
QStringList datasetFormatNames();

struct ImportRequest {
    DatasetFormat format = DatasetFormat::Idx;
    QStringList sources;  // idx: a folder; csv/text: a file; npy: x.npy then y.npy; images: a folder
    QString name;         // empty: from the source
    QString labelColumn;  // csv: a header name or 0-based index; empty: "label", else the last column
    int imageWidth = 0;   // images: 0 keeps the images' own size (of the first image)
    int imageHeight = 0;
    bool rgb = false;                  // images: three channels instead of grayscale
    int contextLength = 64;            // text: characters per sample
    double testFraction = 0.1;         // not idx, which has its own split
    std::int64_t maxTrainSamples = 0;  // > 0: keep only the first n (a quick subset)
    std::int64_t maxTestSamples = 0;
};

// Reads the sources into a dataset; raven::Error (what, where, what to do) on bad input. Checks
// `cancelled` between stages and throws ImportCancelled when it is set.
data::Dataset importDataset(const ImportRequest& request, const std::atomic_bool& cancelled);

struct ImportCancelled {};

}  // namespace raven::console
