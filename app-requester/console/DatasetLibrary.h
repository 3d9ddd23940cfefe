#pragma once
// DatasetLibrary: the requester's imported datasets on this machine, and the long work on them off
// the GUI thread: importing files (with stages and Cancel), reading a preview, uploading the shards
// a coordinator lacks (with progress).
//
// Each dataset is a directory <root>/<name>/ with manifest.json and shards/<sha256>, the layout of
// `raven dataset import`, so the CLI and the console share datasets. An upload sends only the shards
// the coordinator does not hold yet (they are content-addressed), so an upload broken by a lost
// connection resumes where it stopped when started again.
#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <atomic>
#include <memory>
#include <vector>

#include "DatasetImport.h"
#include "DatasetPreview.h"
#include "data/Manifest.h"

namespace raven::requester {
class RequesterClient;
}

namespace raven::console {

struct LocalDatasetEntry {
    QString path;  // the dataset directory
    data::Manifest manifest;
};

class DatasetLibrary : public QObject {
    Q_OBJECT
public:
    explicit DatasetLibrary(QString root, QObject* parent = nullptr);
    ~DatasetLibrary() override;

    const QString& root() const { return root_; }
    const std::vector<LocalDatasetEntry>& datasets() const { return datasets_; }
    // The entry whose manifest id is `id`, or null.
    const LocalDatasetEntry* find(const QString& id) const;
    // Reads the directories under root() again.
    void rescan();

    // Imports in the background: importStage(...) as it goes, then imported(entry index) or
    // importFailed(message, hint), or importCancelled() after cancelImport(). One at a time.
    void startImport(const ImportRequest& request);
    void cancelImport();
    bool isImporting() const;

    // Reads the preview of datasets()[index] in the background: previewReady or previewFailed.
    void loadPreview(int index);

    // Uploads datasets()[index] to the coordinator `client` is connected to: uploadProgress, then
    // uploaded(datasetId) or uploadFailed.
    void upload(int index, requester::RequesterClient& client);

signals:
    void datasetsChanged();
    void importStage(const QString& stage);
    // 0..100: the shards written so far; -1 while the files are read (a busy bar).
    void importProgress(int percent);
    void imported(int index);
    void importFailed(const QString& message, const QString& hint);
    void importCancelled();
    void previewReady(const raven::console::DatasetPreview& preview);
    void previewFailed(const QString& message);
    void uploadProgress(int shardsSent, int shardsToSend);
    void uploaded(const QString& datasetId, int shardsSent, int shardsTotal);
    void uploadFailed(const QString& message);

private:
    struct ImportOutcome;
    QString root_;
    std::vector<LocalDatasetEntry> datasets_;
    std::shared_ptr<std::atomic_bool> cancelled_;
    QFutureWatcher<std::shared_ptr<ImportOutcome>>* importWatcher_ = nullptr;
    std::uint64_t previewGeneration_ = 0;  // only the latest preview asked for is shown
};

}  // namespace raven::console
