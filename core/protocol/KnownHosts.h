#pragma once
// Trust on first use, as ssh does: the first time a client reaches a coordinator it stores the
// certificate's SHA-256 fingerprint under the coordinator's "host:port"; later it accepts that
// certificate and no other. A changed certificate means either the operator replaced it or someone
// is in the middle; the client refuses and says which line of which file to delete if the change is
// legitimate.
//
// The file is text, one pin a line: `host:port sha256:AB:CD:...`; lines starting with '#' are
// comments. Default place: <AppDataLocation>/known_hosts (e.g. ~/.local/share/Raven/<app>/known_hosts).
#include <QString>

namespace raven::protocol {

class KnownHosts {
public:
    explicit KnownHosts(QString filePath);

    // <QStandardPaths::AppDataLocation>/known_hosts of the running application.
    static QString defaultPath();

    enum class Verdict {
        Trusted,       // pinned, and the fingerprint matches
        FirstContact,  // nothing pinned for this host yet
        Changed,       // pinned, and the fingerprint differs
    };
    struct Check {
        Verdict verdict = Verdict::FirstContact;
        QString pinned;  // the stored fingerprint, when there is one
    };

    // Reads the file afresh each time (another process may have pinned meanwhile); a missing file
    // pins nothing. Throws raven::Error when the file exists but cannot be read.
    Check check(const QString& hostPort, const QString& fingerprint) const;

    // Adds (or replaces) the pin for hostPort, creating the file and its folder as needed, atomically.
    // Throws raven::Error when it cannot be written.
    void pin(const QString& hostPort, const QString& fingerprint) const;

    // The refusal a person reads when a pinned certificate changed.
    QString changedMessage(const QString& hostPort, const QString& pinned, const QString& presented) const;

    const QString& filePath() const { return path_; }

private:
    QString path_;
};

}  // namespace raven::protocol
