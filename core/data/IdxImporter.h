#pragma once
// IDX importer: the format of MNIST, Fashion-MNIST, KMNIST and EMNIST.
//
// An IDX file is: two zero bytes, a type byte (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32,
// 0x0E f64), a byte with the number of dimensions, one big-endian u32 per dimension, then the
// values, big-endian, row-major. The first dimension counts samples. Files may be gzipped.
//
// A dataset is four files: train images + labels, test (t10k) images + labels; IDX keeps that split.
// Images of rank 2 per sample ([H,W]) become [1,H,W] (one channel), so that a conv layer takes them
// as they are; other ranks keep their shape. u8 images stay bytes in shards. Labels are a rank-1
// IDX file of integers; the counts of images and labels must agree.
#include "data/Dataset.h"

#include <QString>

namespace raven::data {

struct IdxFiles {
    QString trainImages, trainLabels, testImages, testLabels;
};

struct IdxImportOptions {
    std::string name;                     // defaults to the directory's name
    std::vector<std::string> classNames;  // defaults: see importIdxDirectory, else "0".."max label"
    NormalizationKind normalization = NormalizationKind::PerChannel;
};

// What the header of an IDX file says (read without reading the values).
struct IdxHeader {
    std::uint8_t type = 0;           // 0x08 ...
    std::vector<std::int64_t> dims;  // dims[0] = number of samples
};

// Reads and checks just the header (magic, type, rank). Quick even for a large gzipped file.
IdxHeader readIdxHeader(const QString& path);

// Finds train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
// t10k-labels-idx1-ubyte in `dir`, each raw or with ".gz". A missing one is a raven::Error.
IdxFiles findIdxFiles(const QString& dir);

// Images + labels of one split. `type` receives the element type of the images.
Samples readIdxSamples(const QString& imagesPath, const QString& labelsPath, ElementType* type = nullptr);

Dataset importIdx(const IdxFiles& files, const IdxImportOptions& options);

// importIdx(findIdxFiles(dir)). When no class names are given and the directory's name contains
// "fashion", the ten Fashion-MNIST names are used ("T-shirt/top" ... "Ankle boot").
Dataset importIdxDirectory(const QString& dir, IdxImportOptions options = {});

// The ten Fashion-MNIST class names, in label order.
const std::vector<std::string>& fashionMnistClassNames();

}  // namespace raven::data
