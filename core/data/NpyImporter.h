#pragma once
// NumPy importer: a pair of .npy files, x (features) and y (labels), as np.save writes them.
//
// A .npy file is: "\x93NUMPY", major and minor version bytes, the header length (u16 little-endian
// for version 1, u32 for versions 2 and 3), a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
// padded with spaces to a multiple of 64 bytes and ended by '\n', then the raw values.
//
// x may be float32, float64 or any integer type (uint8 stays bytes in shards), of any shape (N, ...):
// one sample per row of the first axis; x of shape (N,) gives samples of shape [1]. y must be an
// integer array of shape (N,) (class indices) or (N, T) (a target sequence per sample). Fortran-order
// arrays and big-endian data are refused with a clear error (np.ascontiguousarray / astype('<f4')
// fixes them). The train/test split is a seeded shuffle (Split.h).
#include "data/Dataset.h"

#include <QByteArray>
#include <QString>

namespace raven::data {

struct NpyArray {
    char kind = 0;              // 'f' float, 'i' signed, 'u' unsigned, 'b' bool
    std::int64_t itemSize = 0;  // bytes per value
    std::vector<std::int64_t> shape;
    QByteArray bytes;  // the whole file
    std::int64_t dataOffset = 0;
    std::int64_t count() const { return elementCount(shape); }
    // Value i as double (little-endian, checked by readNpy).
    double at(std::int64_t i) const;
};

// Reads and checks a .npy file: magic, version, header dict, byte order, order, data length.
NpyArray readNpy(const QString& path);

struct NpyImportOptions {
    std::string name;                     // defaults to the x file's base name
    std::vector<std::string> classNames;  // defaults to "0".."max label"
    double testFraction = 0.1;
    std::uint64_t seed = 1;
    NormalizationKind normalization = NormalizationKind::PerChannel;
};

Dataset importNpy(const QString& xPath, const QString& yPath, const NpyImportOptions& options = {});

}  // namespace raven::data
