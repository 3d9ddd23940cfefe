#include "DatasetImport.h"

#include <QDir>
#include <QFileInfo>
#include <QSize>
#include <algorithm>

#include "base/Error.h"
#include "data/CsvImporter.h"
#include "data/IdxImporter.h"
#include "data/ImageFolderImporter.h"
#include "data/NpyImporter.h"
#include "data/TextCorpusImporter.h"

namespace raven::console {

QStringList datasetFormatNames() {
    return {QObject::tr("IDX files (MNIST family)"), QObject::tr("CSV with a label column"),
            QObject::tr("NumPy arrays (x.npy, y.npy)"), QObject::tr("Image folder (one sub-folder per class)"),
            QObject::tr("Text corpus (character language model)")};
}

namespace {

void need(const ImportRequest& r, qsizetype n, const char* what) {
    RAVEN_CHECK(r.sources.size() == n && std::all_of(r.sources.begin(), r.sources.end(),
                                                     [](const QString& s) { return !s.trimmed().isEmpty(); }),
                std::string("this format needs ") + what, "choose it with Browse…");
}

data::Dataset readSources(const ImportRequest& r) {
    const std::string name = r.name.trimmed().toStdString();
    switch (r.format) {
        case DatasetFormat::Idx:
            need(r, 1, "one folder with the four IDX files (train and t10k images and labels)");
            return data::importIdxDirectory(r.sources[0], {.name = name, .classNames = {}});
        case DatasetFormat::Csv: {
            need(r, 1, "one CSV file");
            data::CsvImportOptions o;
            o.name = name;
            o.labelColumn = r.labelColumn.trimmed().toStdString();
            o.testFraction = r.testFraction;
            return data::importCsv(r.sources[0], o);
        }
        case DatasetFormat::Npy: {
            need(r, 2, "two files: the features (x.npy) and the labels (y.npy)");
            data::NpyImportOptions o;
            o.name = name;
            o.testFraction = r.testFraction;
            return data::importNpy(r.sources[0], r.sources[1], o);
        }
        case DatasetFormat::ImageFolder: {
            need(r, 1, "one folder with a sub-folder of images per class");
            data::ImageFolderImportOptions o;
            o.name = name;
            QSize size(r.imageWidth, r.imageHeight);
            if (size.width() <= 0 || size.height() <= 0) {
                const auto [width, height] = data::imageFolderSize(r.sources[0]);
                size = QSize(width, height);
            }
            o.width = size.width();
            o.height = size.height();
            o.grayscale = !r.rgb;
            o.testFraction = r.testFraction;
            return data::importImageFolder(r.sources[0], o);
        }
        case DatasetFormat::TextCorpus: {
            need(r, 1, "one UTF-8 text file");
            data::TextCorpusImportOptions o;
            o.name = name;
            o.contextLength = r.contextLength;
            o.testFraction = r.testFraction;
            return data::importTextCorpus(r.sources[0], o);
        }
    }
    fail("unknown dataset format", "");
}

}  // namespace

data::Dataset importDataset(const ImportRequest& request, const std::atomic_bool& cancelled) {
    RAVEN_CHECK(request.testFraction > 0 && request.testFraction < 1, "the test share must be between 0 and 1",
                "0.1 keeps a tenth of the samples for testing");
    data::Dataset dataset = readSources(request);
    if (cancelled) throw ImportCancelled{};
    if (request.maxTrainSamples > 0 && dataset.train.count() > request.maxTrainSamples)
        dataset.train = dataset.train.slice(0, request.maxTrainSamples);
    if (request.maxTestSamples > 0 && dataset.test.count() > request.maxTestSamples)
        dataset.test = dataset.test.slice(0, request.maxTestSamples);
    RAVEN_CHECK(!dataset.train.empty(), "the import gave no training samples",
                "check the files, or lower the test share");
    dataset.validate(request.sources.join(", ").toStdString());
    return dataset;
}

}  // namespace raven::console
