#include "DatasetLibrary.h"

#include <QDebug>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QtConcurrent>

#include "WhileAlive.h"
#include "base/Error.h"
#include "data/Sharding.h"
#include "requester/RequesterClient.h"

namespace raven::console {

struct DatasetLibrary::ImportOutcome {
    QString path;  // the new dataset directory, on success
    QString message, hint;
    bool cancelled = false;
};

DatasetLibrary::DatasetLibrary(QString root, QObject* parent) : QObject(parent), root_(std::move(root)) {
    QDir().mkpath(root_);
    rescan();
}

DatasetLibrary::~DatasetLibrary() {
    // An import still running writes into root_; let it finish rather than leave half a dataset.
    if (importWatcher_) importWatcher_->waitForFinished();
}

const LocalDatasetEntry* DatasetLibrary::find(const QString& id) const {
    for (const auto& d : datasets_)
        if (d.manifest.id == id) return &d;
    return nullptr;
}

void DatasetLibrary::rescan() {
    datasets_.clear();
    const QDir root(root_);
    for (const QString& name : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        const QString manifest = root.filePath(name + "/manifest.json");
        if (!QFileInfo::exists(manifest)) continue;  // an import that did not finish
        try {
            datasets_.push_back({root.filePath(name), data::Manifest::load(manifest)});
        } catch (const Error& e) {
            qWarning().noquote() << "skipping the damaged dataset" << root.filePath(name) << ":" << e.what();
        }
    }
    emit datasetsChanged();
}

bool DatasetLibrary::isImporting() const { return importWatcher_ && importWatcher_->isRunning(); }

void DatasetLibrary::startImport(const ImportRequest& request) {
    if (isImporting()) return;
    cancelled_ = std::make_shared<std::atomic_bool>(false);
    auto cancelled = cancelled_;
    const QString root = root_;
    // Told on the GUI thread; queued calls to a deleted library are dropped, and the destructor
    // waits for the import, so none is posted after it.
    DatasetLibrary* self = this;
    auto stage = [self](const QString& text) {
        QMetaObject::invokeMethod(self, [self, text] { emit self->importStage(text); });
    };
    // Percent of the shards written, told when it changes (-1 while the files are read: no fraction).
    auto percent = [self](int value) {
        QMetaObject::invokeMethod(self, [self, value] { emit self->importProgress(value); });
    };
    auto future = QtConcurrent::run([request, cancelled, root, stage, percent]() -> std::shared_ptr<ImportOutcome> {
        auto out = std::make_shared<ImportOutcome>();
        QString partial;
        try {
            stage(tr("Reading %1…").arg(request.sources.join(", ")));
            percent(-1);
            const data::Dataset ds = importDataset(request, *cancelled);
            // A name that is a safe directory name and new in the library.
            QString base = QString::fromStdString(ds.name).replace(QRegularExpression("[^A-Za-z0-9._-]+"), "-");
            if (base.isEmpty() || base.startsWith('.')) base = "dataset";
            QString dir = QDir(root).filePath(base);
            for (int i = 2; QFileInfo::exists(dir); ++i) dir = QDir(root).filePath(base + "-" + QString::number(i));
            partial = dir;
            stage(tr("Cutting %1 samples into shards…").arg(ds.train.count() + ds.test.count()));
            data::ShardStore store(QDir(dir).filePath("shards"));
            int told = -1;
            const data::Manifest manifest =
                data::publishDataset(ds, store, data::kDefaultShardSize, [&](std::int64_t written, std::int64_t total) {
                    if (*cancelled) throw ImportCancelled{};
                    const int now = int(100 * written / std::max<std::int64_t>(1, total));
                    if (now != told) percent(told = now);
                });
            if (*cancelled) throw ImportCancelled{};
            // The manifest last: a directory without one is an import that did not finish.
            manifest.save(QDir(dir).filePath("manifest.json"));
            out->path = dir;
        } catch (const ImportCancelled&) {
            out->cancelled = true;
        } catch (const Error& e) {
            out->message = QString::fromStdString(e.message());
            out->hint = QString::fromStdString(e.hint());
        } catch (const std::exception& e) {
            out->message = QString::fromUtf8(e.what());
        }
        if (out->path.isEmpty() && !partial.isEmpty()) QDir(partial).removeRecursively();
        return out;
    });
    delete importWatcher_;
    importWatcher_ = new QFutureWatcher<std::shared_ptr<ImportOutcome>>(this);
    connect(importWatcher_, &QFutureWatcherBase::finished, this, [this] {
        const auto out = importWatcher_->result();
        if (out->cancelled) {
            emit importCancelled();
            return;
        }
        if (out->path.isEmpty()) {
            emit importFailed(out->message, out->hint);
            return;
        }
        rescan();
        for (std::size_t i = 0; i < datasets_.size(); ++i)
            if (datasets_[i].path == out->path) emit imported(int(i));
    });
    importWatcher_->setFuture(future);
}

void DatasetLibrary::cancelImport() {
    if (cancelled_) *cancelled_ = true;
}

void DatasetLibrary::loadPreview(int index) {
    if (index < 0 || std::size_t(index) >= datasets_.size()) return;
    const QString path = datasets_[std::size_t(index)].path;
    const std::uint64_t generation = ++previewGeneration_;
    auto* watcher = new QFutureWatcher<std::pair<std::shared_ptr<DatasetPreview>, QString>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        const auto [preview, error] = watcher->result();
        watcher->deleteLater();
        if (generation != previewGeneration_) return;
        if (preview)
            emit previewReady(*preview);
        else
            emit previewFailed(error);
    });
    watcher->setFuture(QtConcurrent::run([path]() -> std::pair<std::shared_ptr<DatasetPreview>, QString> {
        try {
            return {std::make_shared<DatasetPreview>(buildPreview(path)), {}};
        } catch (const std::exception& e) {
            return {nullptr, QString::fromUtf8(e.what())};
        }
    }));
}

void DatasetLibrary::upload(int index, requester::RequesterClient& client) {
    if (index < 0 || std::size_t(index) >= datasets_.size()) return;
    const LocalDatasetEntry entry = datasets_[std::size_t(index)];
    try {
        client.uploadDataset(entry.manifest, data::ShardStore(QDir(entry.path).filePath("shards")),
                             {whileAlive(this,
                                         [](DatasetLibrary* self, const requester::DatasetUploaded& d) {
                                             emit self->uploaded(d.datasetId, d.shardsSent, d.shardsTotal);
                                         }),
                              whileAlive(this, [](DatasetLibrary* self,
                                                  const requester::Failure& f) { emit self->uploadFailed(f.text()); })},
                             whileAlive(this, [](DatasetLibrary* self, const requester::UploadProgress& p) {
                                 emit self->uploadProgress(p.shardsSent, p.shardsToSend);
                             }));
    } catch (const std::exception& e) {
        emit uploadFailed(QString::fromUtf8(e.what()));
    }
}

}  // namespace raven::console
