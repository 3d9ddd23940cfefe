#include "DatasetPreview.h"

#include <QDir>
#include <QFileInfo>
#include <algorithm>

#include "base/Error.h"
#include "data/Sharding.h"

namespace raven::console {

QString DatasetPreview::className(int label) const {
    if (label >= 0 && std::size_t(label) < manifest.classes.size())
        return QString::fromStdString(manifest.classes[std::size_t(label)]);
    return QString::number(label);
}

namespace {

QImage toImage(std::span<const float> f, const data::Shape& shape) {
    const int channels = int(shape[0]), h = int(shape[1]), w = int(shape[2]);
    QImage image(w, h, channels == 1 ? QImage::Format_Grayscale8 : QImage::Format_RGB888);
    const auto byte = [](float v) { return uchar(std::clamp(v, 0.0f, 255.0f)); };
    for (int y = 0; y < h; ++y) {
        uchar* line = image.scanLine(y);
        for (int x = 0; x < w; ++x) {
            if (channels == 1) {
                line[x] = byte(f[std::size_t(y * w + x)]);
            } else {
                for (int c = 0; c < 3; ++c) line[x * 3 + c] = byte(f[std::size_t((c * h + y) * w + x)]);
            }
        }
    }
    return image;
}

std::vector<std::int64_t> perClass(const data::Samples& s, std::size_t classes) {
    std::vector<std::int64_t> counts(classes, 0);
    for (std::int32_t label : s.allLabels())
        if (label >= 0 && std::size_t(label) < classes) ++counts[std::size_t(label)];
    return counts;
}

}  // namespace

DatasetPreview buildPreview(const QString& path, int samples) {
    DatasetPreview p;
    p.path = path;
    const QString manifestPath = QDir(path).filePath("manifest.json");
    RAVEN_CHECK(QFileInfo::exists(manifestPath), path.toStdString() + " holds no dataset (manifest.json is missing)",
                "import the files again from Datasets > Import");
    p.manifest = data::Manifest::load(manifestPath);
    const data::ShardStore store(QDir(path).filePath("shards"));
    const data::Dataset ds = data::loadDataset(p.manifest, store);
    for (const auto* split : {&p.manifest.train, &p.manifest.test})
        for (const auto& shard : split->shards) p.shardBytes += QFileInfo(store.pathOf(shard.hash)).size();

    const data::Shape& shape = p.manifest.featureShape;
    const bool sequenceLabels = !p.manifest.labelShape.empty();
    if (shape.size() == 3 && (shape[0] == 1 || shape[0] == 3))
        p.kind = PreviewKind::Images;
    else if (sequenceLabels)
        p.kind = PreviewKind::Text;
    const std::int64_t n = std::min<std::int64_t>(samples, ds.train.count());
    for (std::int64_t i = 0; i < n; ++i) {
        const auto f = ds.train.features(i);
        if (p.kind == PreviewKind::Images) {
            p.images.push_back(toImage(f, shape));
        } else if (p.kind == PreviewKind::Table) {
            p.rows.emplace_back(f.begin(), f.end());
        } else if (i < 8) {
            for (float id : f) p.text += p.className(int(id));
            p.text += QStringLiteral("\n\u2014\n");
        }
        if (!sequenceLabels) p.labels.push_back(ds.train.label(i));
    }
    if (!sequenceLabels) {
        p.trainPerClass = perClass(ds.train, p.manifest.classes.size());
        p.testPerClass = perClass(ds.test, p.manifest.classes.size());
    }
    return p;
}

std::vector<QImage> testSampleImages(const QString& path, const QList<qint64>& indices) {
    const data::Manifest m = data::Manifest::load(QDir(path).filePath("manifest.json"));
    std::vector<QImage> images;
    const data::Shape& shape = m.featureShape;
    if (shape.size() != 3 || (shape[0] != 1 && shape[0] != 3)) return images;
    const data::ShardStore store(QDir(path).filePath("shards"));
    for (qint64 index : indices) {
        if (index < 0 || index >= m.test.samples) continue;
        const auto& shard = m.test.shards[std::size_t(index / m.shardSize)];
        const data::Samples s = data::loadShardSamples(m, shard, store);
        images.push_back(toImage(s.features(index % m.shardSize), shape));
    }
    return images;
}

}  // namespace raven::console
