#pragma once
// Reading a source file whole, gunzipping it when it starts with the gzip magic (1f 8b), so that
// every importer accepts "train-images-idx3-ubyte" and "train-images-idx3-ubyte.gz" alike.
#include <QByteArray>
#include <QString>

#include <string>

namespace raven::data {

// The file's bytes, decompressed if gzipped. A missing or unreadable file, or a gzip stream that is
// corrupt or truncated, is a raven::Error naming the file and the compressed byte offset.
QByteArray readSourceFile(const QString& path);

// Decompresses gzip data (one or more members); `origin` names it in errors.
QByteArray gunzip(const QByteArray& compressed, const QString& origin);

// For messages: the path as UTF-8.
std::string str(const QString& s);

}  // namespace raven::data
