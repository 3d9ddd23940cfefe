#pragma once
// Invite: how a volunteer joins a coordinator in one line, and how its certificate gets pinned.
//
//   raven://coord.example.org:7443?fp=sha256:AB:CD:...&token=T&name=NAME
//
// An operator makes it with `raven-coordinator invite NAME --host coord.example.org:7443`; it carries
// the coordinator's certificate fingerprint (so the very first connection is already verified, no
// trust-on-first-use window) and a contributor token made for this machine.
//
//   auto invite = Invite::parse(line, &why);    // nullopt and why when malformed
//   invite->pin(knownHostsPath);                // pins fp for host:port before the first connection
//   config.set(CoordinatorUrl, invite->coordinatorUrl().toString()); ...
//
// A bare wss:// URL has no fingerprint: FingerprintProbe connects once (pinning into a throwaway
// file) so that the person can compare the fingerprint with the operator's before it is pinned.
#include <QObject>
#include <QString>
#include <QUrl>

#include <memory>
#include <optional>

namespace raven::protocol {
class ProtocolClient;
}

namespace raven::contributor {

struct Invite {
    QString host;
    int port = 0;
    QString fingerprint;  // "sha256:AB:CD:..."
    QString token;
    QString name;  // the name the operator gave this contributor (may be empty)

    static std::optional<Invite> parse(const QString& text, QString* why = nullptr);
    QString toString() const;
    QUrl coordinatorUrl() const;  // wss://host:port
    QString hostPort() const;     // what the known-hosts file keys pins by
    // Pins the fingerprint (replacing an older pin for the same host). Throws raven::Error.
    void pin(const QString& knownHostsPath) const;
};

class ContributorConfig;

// Writes a coordinator into the settings after pinning its fingerprint: the end of the first-run
// setup. False and *why when the pin cannot be written (nothing is changed then).
bool joinCoordinator(ContributorConfig& config, const QString& knownHostsPath, const Invite& invite,
                     const QString& machineName, QString* why);

// The coordinator a console on this machine embeds (or raven-coordinator's default listen address).
QUrl localCoordinatorUrl();

// Connects to a coordinator once to learn its certificate's fingerprint, pinning nothing that lasts.
class FingerprintProbe : public QObject {
    Q_OBJECT
public:
    explicit FingerprintProbe(QObject* parent = nullptr);
    ~FingerprintProbe() override;
    void probe(const QUrl& url);

signals:
    void found(QString fingerprint);
    void failed(QString reason);

private:
    std::unique_ptr<protocol::ProtocolClient> client_;
    QString scratchDir_;
};

}  // namespace raven::contributor
