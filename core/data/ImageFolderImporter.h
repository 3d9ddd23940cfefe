#pragma once
// Image folder importer: one sub-folder per class, images inside (PNG, JPEG, BMP, GIF, WebP, TIFF:
// whatever QImage reads here).
//
//   flowers/daisy/001.jpg  flowers/daisy/002.png  flowers/tulip/a.jpg ...
//
// Class names are the sub-folder names sorted by code point (the same order on every machine), and
// images within a class are read in sorted order, so the same folder gives the same dataset. Every
// image is resized to width x height (ignoring its aspect ratio, smooth filtering) and converted to
// grayscale ([1,H,W]) or RGB ([3,H,W], channels first as conv layers expect); values stay bytes
// 0..255. Alpha is dropped. An image that cannot be decoded is a raven::Error naming the file.
// The train/test split is a seeded shuffle (Split.h).
#include "data/Dataset.h"

#include <QString>

#include <utility>

namespace raven::data {

struct ImageFolderImportOptions {
    std::string name;  // defaults to the folder's name
    int width = 28;
    int height = 28;
    bool grayscale = true;
    double testFraction = 0.1;
    std::uint64_t seed = 1;
    NormalizationKind normalization = NormalizationKind::PerChannel;
};

Dataset importImageFolder(const QString& root, const ImageFolderImportOptions& options = {});

// The images' own size: the first readable image's, in the order the importer reads them (classes,
// then files, by code point), so that a folder of 16x16 images stays 16x16 unless the person asks
// otherwise. raven::Error when no image under `root` can be read.
std::pair<int, int> imageFolderSize(const QString& root);

}  // namespace raven::data
