#pragma once
// DatasetPreview: what the datasets page shows of one imported dataset, computed from its manifest
// and shards (every shard read is verified by hash) off the GUI thread by DatasetLibrary.
//  - images (feature shape [1,H,W] or [3,H,W]): the first samples as pictures with their labels;
//  - flat features (CSV, NumPy vectors): the first samples as table rows;
//  - token sequences (a text corpus): the first samples decoded back to text;
//  - always: samples per class in each split, and the shards' count and bytes on disk.
#include <QImage>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <vector>

#include "data/Manifest.h"

namespace raven::console {

enum class PreviewKind { Images, Table, Text };

struct DatasetPreview {
    QString path;
    data::Manifest manifest;
    PreviewKind kind = PreviewKind::Table;
    std::vector<QImage> images;               // Images: the first samples
    std::vector<std::vector<float>> rows;     // Table: the first samples' raw features
    std::vector<int> labels;                  // the label of each image or row
    QString text;                             // Text: the first samples decoded
    std::vector<std::int64_t> trainPerClass;  // by class index
    std::vector<std::int64_t> testPerClass;
    std::int64_t shardBytes = 0;  // on disk, train and test

    QString className(int label) const;
    int shardCount() const { return int(manifest.train.shards.size() + manifest.test.shards.size()); }
};

// Reads the dataset at `path` (a dataset directory: manifest.json + shards/); raven::Error when it
// is missing or damaged.
DatasetPreview buildPreview(const QString& path, int samples = 48);

// The test-split samples at `indices` as pictures (image datasets; empty otherwise), reading only the
// shards that hold them.
std::vector<QImage> testSampleImages(const QString& path, const QList<qint64>& indices);

}  // namespace raven::console

Q_DECLARE_METATYPE(raven::console::DatasetPreview)
