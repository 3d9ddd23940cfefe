#pragma once
// The store's schema and its migrations.
//
// The table schema_version holds one row per applied migration; the database's version is the
// highest. An empty file is version 0. migrate() applies, in order, each migration newer than the
// file, each in its own transaction together with its schema_version row, so a crash mid-upgrade
// leaves the previous version intact. A file whose version is newer than this build knows is
// refused (raven::Error telling to upgrade): an older coordinator would misread it. A migration,
// once released, is never edited; a change to the schema is a new migration at the end of the list.
#include "ledger/SqlConnection.h"

#include <QList>
#include <QStringList>

namespace raven::ledger {

struct Migration {
    int version = 0;      // 1, 2, ...: the version the file has after this migration
    QString description;  // one line, stored in schema_version
    QStringList statements;
    // Rebuilds tables that others reference (to change a CHECK): run with foreign keys off, as
    // SQLite's ALTER TABLE page prescribes, and PRAGMA foreign_key_check must pass before the commit.
    bool rebuildsTables = false;
};

// Every migration, oldest first; versions are 1..latestSchemaVersion() without gaps.
const QList<Migration>& schemaMigrations();
int latestSchemaVersion();

// The file's current version (0 when it has no schema_version table yet).
int readSchemaVersion(const SqlConnection& connection);
// Brings the file to latestSchemaVersion(); raven::Error if it is newer, or if it holds tables
// without a schema_version table (not a Raven coordinator database).
void migrateSchema(SqlConnection& connection);

}  // namespace raven::ledger
