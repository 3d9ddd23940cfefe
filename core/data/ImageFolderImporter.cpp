#include "data/ImageFolderImporter.h"

#include "base/Error.h"
#include "data/FileBytes.h"
#include "data/Split.h"

#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>

#include <algorithm>

namespace raven::data {

namespace {

// Sorted by code point, not by locale, so that class indices do not depend on the machine.
QStringList sortedEntries(const QDir& dir, QDir::Filters filters, const QStringList& nameFilters = {}) {
    QStringList names = dir.entryList(nameFilters, filters | QDir::NoDotAndDotDot, QDir::NoSort);
    std::sort(names.begin(), names.end(), [](const QString& a, const QString& b) { return a.toUcs4() < b.toUcs4(); });
    return names;
}

}  // namespace

std::pair<int, int> imageFolderSize(const QString& root) {
    const QDir dir(root);
    for (const QString& label : sortedEntries(dir, QDir::Dirs)) {
        const QDir classDir(dir.filePath(label));
        for (const QString& file : sortedEntries(classDir, QDir::Files)) {
            const QSize size = QImageReader(classDir.filePath(file)).size();
            if (size.isValid()) return {size.width(), size.height()};
        }
    }
    raven::fail("no readable image in the class folders under " + root.toStdString(),
                "put PNG or JPEG images in one sub-folder per class");
}

Dataset importImageFolder(const QString& root, const ImageFolderImportOptions& options) {
    const QDir dir(root);
    RAVEN_CHECK(dir.exists(), str(root) + ": no such directory", "give a folder with one sub-folder per class");
    RAVEN_CHECK(options.width > 0 && options.height > 0 && options.width <= 4096 && options.height <= 4096,
                "image size " + std::to_string(options.width) + "x" + std::to_string(options.height) + " is not usable",
                "give a width and height between 1 and 4096");
    const QStringList classDirs = sortedEntries(dir, QDir::Dirs);
    RAVEN_CHECK(!classDirs.isEmpty(), str(root) + ": no class sub-folders",
                "put each class's images in a sub-folder named after the class, e.g. " + str(root) + "/cat/1.png");

    QStringList patterns;
    for (const QByteArray& format : QImageReader::supportedImageFormats())
        patterns << "*." + QString::fromLatin1(format);
    const int channels = options.grayscale ? 1 : 3;
    const std::int64_t pixels = std::int64_t(options.width) * options.height;
    Samples all({channels, options.height, options.width}, {});
    std::vector<float> x(static_cast<std::size_t>(channels * pixels));

    Dataset ds;
    for (const QString& className : classDirs) {
        const QDir classDir(dir.filePath(className));
        const QStringList files = sortedEntries(classDir, QDir::Files, patterns);
        if (files.isEmpty()) continue;  // an empty folder is not a class
        const auto label = static_cast<std::int32_t>(ds.classes.size());
        ds.classes.push_back(str(className));
        for (const QString& file : files) {
            const QString path = classDir.filePath(file);
            QImageReader reader(path);
            reader.setAutoTransform(true);  // honour a photo's EXIF orientation
            QImage image = reader.read();
            if (image.isNull())
                fail(str(path) + ": cannot be read as an image: " + str(reader.errorString()),
                     "remove or replace the file; the image folder may only hold images");
            image = image.scaled(options.width, options.height, Qt::IgnoreAspectRatio, Qt::SmoothTransformation)
                        .convertToFormat(options.grayscale ? QImage::Format_Grayscale8 : QImage::Format_RGB888);
            for (int row = 0; row < options.height; ++row) {
                const uchar* line = image.constScanLine(row);
                for (int col = 0; col < options.width; ++col)
                    for (int c = 0; c < channels; ++c)
                        x[static_cast<std::size_t>(c * pixels + std::int64_t(row) * options.width + col)] =
                            line[col * channels + c];
            }
            const std::int32_t y[] = {label};
            all.append(x, y);
        }
    }
    RAVEN_CHECK(!all.empty(), str(root) + ": the class sub-folders hold no images",
                "supported formats: " + str(patterns.join(' ')));
    ds.name = options.name.empty() ? str(QFileInfo(QDir::cleanPath(root)).fileName()) : options.name;
    ds.elementType = ElementType::U8;
    std::tie(ds.train, ds.test) = splitSamples(all, options.testFraction, options.seed);
    ds.validate(str(root));
    ds.normalization = Normalization::fit(ds.train, options.normalization);
    return ds;
}

}  // namespace raven::data
