#include "ControlChannel.h"

#include <QLocalSocket>

#include <unistd.h>

namespace raven::contributor {

namespace {
constexpr qint64 kMaxLine = 4096;
}

ControlChannel::ControlChannel(QString name, QObject* parent) : QObject(parent), name_(std::move(name)) {
    server_.setSocketOptions(QLocalServer::UserAccessOption);
    connect(&server_, &QLocalServer::newConnection, this, &ControlChannel::onConnection);
}

QString ControlChannel::defaultName() { return QStringLiteral("raven-contributor-%1").arg(::getuid()); }

bool ControlChannel::listen() {
    // Ask first: with access options set, Qt's listen() replaces an existing socket instead of
    // failing. Someone answering means another instance; silence means a socket left by a crash.
    if (send(name_, QStringLiteral("ping"), 1000)) return false;
    QLocalServer::removeServer(name_);
    return server_.listen(name_);
}

void ControlChannel::onConnection() {
    while (QLocalSocket* socket = server_.nextPendingConnection()) {
        connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QLocalSocket::readyRead, socket, [this, socket] {
            if (!socket->canReadLine()) {
                if (socket->bytesAvailable() > kMaxLine) socket->abort();
                return;
            }
            const QString line = QString::fromUtf8(socket->readLine(kMaxLine)).trimmed();
            const QString command = line.section(QLatin1Char(' '), 0, 0);
            const QString argument = line.section(QLatin1Char(' '), 1).trimmed();
            QString answer;
            if (command == QLatin1String("ping"))
                answer = QStringLiteral("ok raven-contributor");
            else if (handler_)
                answer = handler_(command, argument);
            else
                answer = QStringLiteral("error starting up, try again");
            socket->write(answer.toUtf8() + '\n');
            socket->flush();
            socket->disconnectFromServer();
        });
    }
}

std::optional<QString> ControlChannel::send(const QString& name, const QString& line, int timeoutMs) {
    QLocalSocket socket;
    socket.connectToServer(name);
    if (!socket.waitForConnected(timeoutMs)) return std::nullopt;
    socket.write(line.toUtf8() + '\n');
    if (!socket.waitForBytesWritten(timeoutMs)) return std::nullopt;
    while (!socket.canReadLine())
        if (!socket.waitForReadyRead(timeoutMs)) return std::nullopt;
    return QString::fromUtf8(socket.readLine(kMaxLine)).trimmed();
}

}  // namespace raven::contributor
