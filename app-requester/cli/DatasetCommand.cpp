// raven dataset import|info: turn files into a Raven dataset (content-addressed shards + manifest)
// and describe one. A dataset directory holds manifest.json and shards/ (one file per shard, named
// by the SHA-256 of its bytes).
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <cstdio>
#include <tuple>

#include "AppInfo.h"
#include "Commands.h"
#include "DatasetDirectory.h"
#include "base/Error.h"
#include "data/CsvImporter.h"
#include "data/IdxImporter.h"
#include "data/ImageFolderImporter.h"
#include "data/NpyImporter.h"
#include "data/Sharding.h"
#include "data/TextCorpusImporter.h"
#include "tensor/Shape.h"

namespace raven::cli {

namespace {

QString option(const QCommandLineParser& p, const char* name) { return p.value(QString::fromLatin1(name)); }

double fraction(const QCommandLineParser& p) {
    bool ok = false;
    const double f = option(p, "test-fraction").toDouble(&ok);
    RAVEN_CHECK(ok && f > 0 && f < 1, "--test-fraction must be a number between 0 and 1",
                "e.g. --test-fraction 0.1 keeps a tenth of the samples for testing");
    return f;
}

int positiveInt(const QCommandLineParser& p, const char* name) {
    bool ok = false;
    const int v = option(p, name).toInt(&ok);
    RAVEN_CHECK(ok && v > 0, std::string("--") + name + " must be a positive whole number", "");
    return v;
}

data::Dataset importByFormat(const QCommandLineParser& p, const QStringList& sources) {
    const QString format = option(p, "format");
    const std::string name = option(p, "name").toStdString();
    const auto norm = data::normalizationKindFromString(option(p, "normalize").toStdString());
    const auto needSources = [&](qsizetype n, const char* what) {
        RAVEN_CHECK(sources.size() == n, "raven dataset import --format " + format.toStdString() + " takes " + what,
                    "see `raven dataset import --help`");
    };
    if (format == "idx") {
        needSources(1, "one directory holding the four IDX files (train/t10k images and labels)");
        return data::importIdxDirectory(sources[0], {.name = name, .classNames = {}, .normalization = norm});
    }
    if (format == "csv") {
        needSources(1, "one CSV file");
        data::CsvImportOptions o;
        o.name = name;
        o.labelColumn = option(p, "label-column").toStdString();
        o.testFraction = fraction(p);
        o.normalization = norm;
        return data::importCsv(sources[0], o);
    }
    if (format == "npy") {
        needSources(2, "two files: features (x.npy) then labels (y.npy)");
        data::NpyImportOptions o;
        o.name = name;
        o.testFraction = fraction(p);
        o.normalization = norm;
        return data::importNpy(sources[0], sources[1], o);
    }
    if (format == "images") {
        needSources(1, "one folder with a sub-folder of images per class");
        data::ImageFolderImportOptions o;
        o.name = name;
        // The images' own size unless --image-size asks for another (a 16x16 folder stays 16x16).
        if (p.isSet("image-size"))
            o.width = o.height = positiveInt(p, "image-size");
        else
            std::tie(o.width, o.height) = data::imageFolderSize(sources[0]);
        o.grayscale = !p.isSet("rgb");
        o.testFraction = fraction(p);
        o.normalization = norm;
        return data::importImageFolder(sources[0], o);
    }
    if (format == "text") {
        needSources(1, "one UTF-8 text file");
        data::TextCorpusImportOptions o;
        o.name = name;
        o.contextLength = positiveInt(p, "context");
        o.testFraction = fraction(p);
        return data::importTextCorpus(sources[0], o);
    }
    fail("unknown dataset format '" + format.toStdString() + "'", "use one of: idx, csv, npy, images, text");
}

void printInfo(const data::Manifest& m, const QString& dir) {
    std::printf("dataset   %s (%s)\n", m.name.c_str(), dir.toLocal8Bit().constData());
    std::printf("id        %s\n", m.id.toLatin1().constData());
    std::printf("samples   %lld train, %lld test, each %s (%s in shards), label %s\n", (long long)m.train.samples,
                (long long)m.test.samples, shapeToString(m.featureShape).c_str(), data::toString(m.elementType).c_str(),
                shapeToString(m.labelShape).c_str());
    std::printf("shards    %zu train + %zu test, up to %lld samples each\n", m.train.shards.size(),
                m.test.shards.size(), (long long)m.shardSize);
    std::string classes;
    for (std::size_t i = 0; i < m.classes.size() && i < 12; ++i) classes += (i ? ", " : "") + m.classes[i];
    if (m.classes.size() > 12) classes += ", ...";
    std::printf("classes   %zu: %s\n", m.classes.size(), classes.c_str());
    std::printf("normalize %s\n", data::toString(m.normalization.kind).c_str());
}

int importCommand(const QStringList& args) {
    QCommandLineParser p;
    app::addStandardOptions(p,
                            "Import files as a Raven dataset: cut into content-addressed shards with a manifest.\n"
                            "  idx:    DIR with train/t10k IDX files (MNIST family, raw or .gz)\n"
                            "  csv:    FILE.csv, numeric columns plus a label column\n"
                            "  npy:    X.npy Y.npy\n"
                            "  images: DIR with one sub-folder of PNG/JPEG images per class\n"
                            "  text:   FILE of UTF-8 text (character-level language model)");
    p.addPositionalArgument("sources", "The files or folder to import.", "SOURCE...");
    p.addOptions({{"format", "idx, csv, npy, images or text.", "format"},
                  {{"o", "out"}, "The dataset directory to write (manifest.json + shards/).", "dir"},
                  {"name", "The dataset's name (default: from the source).", "name"},
                  {"normalize", "none, global or per-channel.", "kind", "per-channel"},
                  {"test-fraction", "Share held out for testing (not idx, which has its own split).", "f", "0.1"},
                  {"label-column", "csv: the label column's name or index.", "column"},
                  {"image-size", "images: resize to this many pixels square (default: the images' own size).", "n"},
                  {"rgb", "images: keep three colour channels."},
                  {"context", "text: characters per sample.", "n", "64"},
                  {"shard-size", "Samples per shard.", "n", "32"}});
    p.process(args);
    RAVEN_CHECK(p.isSet("format"), "raven dataset import needs --format", "one of: idx, csv, npy, images, text");
    RAVEN_CHECK(p.isSet("out"), "raven dataset import needs --out DIR", "the directory to write the dataset to");

    const data::Dataset dataset = importByFormat(p, p.positionalArguments());
    const DatasetDirectory dir(option(p, "out"));
    const data::Manifest manifest = dir.publish(dataset, positiveInt(p, "shard-size"));
    printInfo(manifest, dir.path());
    return 0;
}

int infoCommand(const QStringList& args) {
    QCommandLineParser p;
    app::addStandardOptions(p, "Describe a Raven dataset directory; --verify checks every shard's hash.");
    p.addPositionalArgument("dataset", "The dataset directory.", "DIR");
    p.addOption({"verify", "Read every shard and check it against its name and the manifest."});
    p.process(args);
    RAVEN_CHECK(p.positionalArguments().size() == 1, "raven dataset info takes one dataset directory", "");
    const DatasetDirectory dir(p.positionalArguments()[0]);
    const data::Manifest manifest = dir.manifest();
    printInfo(manifest, dir.path());
    if (p.isSet("verify")) {
        const data::Dataset all = dir.load();
        std::printf("verified  %lld samples in %zu shards\n", (long long)(all.train.count() + all.test.count()),
                    manifest.train.shards.size() + manifest.test.shards.size());
    }
    return 0;
}

}  // namespace

int datasetCommand(const QStringList& args) {
    const QString sub = args.size() > 1 ? args[1] : QString();
    QStringList rest = args.mid(1);
    if (!rest.isEmpty()) rest[0] = args[0] + " " + sub;
    if (sub == "import") return importCommand(rest);
    if (sub == "info") return infoCommand(rest);
    std::fprintf(sub == "--help" || sub == "-h" ? stdout : stderr,
                 "Usage: raven dataset import|info [options]\n"
                 "  import  turn IDX/CSV/npy/image-folder/text files into a dataset of shards\n"
                 "  info    describe a dataset (--verify checks every shard)\n");
    return sub == "--help" || sub == "-h" ? 0 : 2;
}

}  // namespace raven::cli
