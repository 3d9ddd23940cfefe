#pragma once
// The settings page, built from ContributorConfig's table: one editor per key, of the key's type,
// limited to its range. Every change is written at once (and the service applies it at once); a value
// the table refuses is refused where it was typed, with the reason beside it, and nothing is stored.
#include <QHash>
#include <QWidget>

#include "ContributorConfig.h"

class QLabel;
class QFormLayout;

namespace raven::contributor {

class SettingsPage : public QWidget {
    Q_OBJECT
public:
    explicit SettingsPage(ContributorConfig& config, QWidget* parent = nullptr);

    // "When_IdleMinutes" for "When/IdleMinutes": the editor's object name (its error label adds "Error").
    static QString editorName(ConfigKey key);

private:
    void addEditor(QFormLayout* form, const ContributorConfig::KeyInfo& key);
    void showRefusal(ConfigKey key, const QString& why);
    void load(ConfigKey key);

    ContributorConfig& config_;
    QHash<int, QWidget*> editors_;
    QHash<int, QLabel*> errors_;
    bool loading_ = false;
};

}  // namespace raven::contributor
