#pragma once
// ControlChannel: one running raven-contributor per user, and a way for scripts to talk to it.
//
//   ControlChannel channel(ControlChannel::defaultName());
//   if (!channel.listen()) {                                   // another instance runs
//       ControlChannel::send(name, "show");                     // it raises its window; we exit
//   }
//   channel.setHandler([&](const QString& command, const QString& argument) { return reply; });
//
//   raven-contributor --status          -> send(name, "status")       prints the running app's state
//   raven-contributor --pause/--resume  -> send(name, "pause"/"resume")
//   raven-contributor --snooze 1h       -> send(name, "snooze 1h")
//
// The wire: a QLocalSocket (a Unix socket only this user can reach); the client writes one line,
// "<command> [argument]\n", the server answers one line and closes. A listen() that finds the name
// taken asks whether someone answers there; a stale socket of a crashed instance is removed.
#include <QLocalServer>
#include <QObject>

#include <functional>
#include <optional>

namespace raven::contributor {

class ControlChannel : public QObject {
    Q_OBJECT
public:
    // Returns the answer line; the first word says whether it worked ("ok ..." or "error ...").
    using Handler = std::function<QString(const QString& command, const QString& argument)>;

    explicit ControlChannel(QString name, QObject* parent = nullptr);

    // "raven-contributor-<user>".
    static QString defaultName();
    // True when this process is now the one instance; false when another answers on the name.
    bool listen();
    void setHandler(Handler handler) { handler_ = std::move(handler); }
    QString serverPath() const { return server_.fullServerName(); }

    // Sends one command to the running instance and waits for its answer; nullopt when none runs.
    static std::optional<QString> send(const QString& name, const QString& line, int timeoutMs = 3000);

private:
    void onConnection();
    QString name_;
    QLocalServer server_;
    Handler handler_;
};

}  // namespace raven::contributor
