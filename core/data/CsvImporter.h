#pragma once
// CSV importer: one sample per line, numeric feature columns and one label column.
//
//   sepal_length,sepal_width,species        5.1,3.5,0
//   5.1,3.5,setosa                    or    4.9,3.0,0       (no header)
//
// - The header is optional; by default (Auto) the first line is a header when one of its cells
//   outside the label column is not a number.
// - The label column is named (a header cell), or given as a 0-based index ("3"); by default it is
//   the column named "label" (any case) if the header has one, else the last column.
// - Labels that are all non-negative integers are class indices (classes "0".."max"); otherwise
//   every distinct label is a class name, and classes are those names sorted (byte order), so the
//   same file always gives the same indices.
// - Fields may be quoted ("a, b" with "" for a quote); quoted fields do not span lines. Blank lines
//   are skipped; a UTF-8 byte order mark is ignored. Features become shape [columns - 1], float32.
// - The train/test split is a seeded shuffle (Split.h).
// A bad cell is a raven::Error with the file, line number and column.
#include "data/Dataset.h"

#include <QString>

namespace raven::data {

enum class CsvHeader { Auto, Present, Absent };

struct CsvImportOptions {
    std::string name;  // defaults to the file's base name
    char delimiter = ',';
    CsvHeader header = CsvHeader::Auto;
    std::string labelColumn;  // header name or 0-based index; empty: "label" if present, else the last
    double testFraction = 0.1;
    std::uint64_t seed = 1;
    NormalizationKind normalization = NormalizationKind::PerChannel;  // per column for flat features
};

Dataset importCsv(const QString& path, const CsvImportOptions& options = {});

}  // namespace raven::data
