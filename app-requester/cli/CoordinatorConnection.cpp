#include "CoordinatorConnection.h"

#include <QFile>
#include <QProcessEnvironment>

#include "base/Error.h"

namespace raven::cli {

void addCoordinatorOptions(QCommandLineParser& parser) {
    parser.addOptions({{"coordinator", "The coordinator, wss://host:port (default: $RAVEN_COORDINATOR).", "url"},
                       {"api-key",
                        "Your API key (default: $RAVEN_API_KEY). Others on this machine can see command lines: "
                        "prefer --api-key-file or the variable.",
                        "key"},
                       {"api-key-file", "Read the API key from this file.", "file"},
                       {"known-hosts",
                        "Where coordinators' certificates are pinned (default: $RAVEN_KNOWN_HOSTS, else "
                        "known_hosts in Raven's data folder).",
                        "file"}});
}

namespace {

QString fromOptionOrEnvironment(const QCommandLineParser& parser, const char* option, const char* variable) {
    if (parser.isSet(QString::fromLatin1(option))) return parser.value(QString::fromLatin1(option)).trimmed();
    return QProcessEnvironment::systemEnvironment().value(QString::fromLatin1(variable)).trimmed();
}

QUrl coordinatorUrl(const QCommandLineParser& parser) {
    const QString text = fromOptionOrEnvironment(parser, "coordinator", "RAVEN_COORDINATOR");
    RAVEN_CHECK(!text.isEmpty(), "no coordinator given",
                "pass --coordinator wss://host:port or set RAVEN_COORDINATOR (the coordinator's operator tells you "
                "its address)");
    // "host:7443" is what people type; the scheme is always wss.
    const QUrl url(text.contains(QLatin1String("://")) ? text : QStringLiteral("wss://") + text, QUrl::StrictMode);
    RAVEN_CHECK(url.isValid() && url.scheme() == QLatin1String("wss") && !url.host().isEmpty(),
                "'" + text.toStdString() + "' is not a coordinator address",
                "write it as wss://host:port, e.g. wss://coordinator.example:7443");
    return url;
}

QString apiKey(const QCommandLineParser& parser) {
    if (parser.isSet("api-key-file")) {
        const QString path = parser.value("api-key-file");
        QFile file(path);
        RAVEN_CHECK(file.open(QIODevice::ReadOnly),
                    "cannot read the API key file " + path.toStdString() + ": " + file.errorString().toStdString(),
                    "check the path given to --api-key-file");
        const QString key = QString::fromUtf8(file.readAll()).trimmed();
        RAVEN_CHECK(!key.isEmpty(), "the API key file " + path.toStdString() + " is empty",
                    "put the key the coordinator's operator gave you in it");
        return key;
    }
    const QString key = fromOptionOrEnvironment(parser, "api-key", "RAVEN_API_KEY");
    RAVEN_CHECK(!key.isEmpty(), "no API key given",
                "pass --api-key-file FILE or set RAVEN_API_KEY (the coordinator's operator issues keys)");
    return key;
}

}  // namespace

std::unique_ptr<requester::BlockingRequester> connectToCoordinator(const QCommandLineParser& parser) {
    const QUrl url = coordinatorUrl(parser);
    const QString key = apiKey(parser);
    return std::make_unique<requester::BlockingRequester>(
        url, key, fromOptionOrEnvironment(parser, "known-hosts", "RAVEN_KNOWN_HOSTS"));
}

QString jobArgument(const QCommandLineParser& parser, const char* command) {
    const QStringList args = parser.positionalArguments();
    RAVEN_CHECK(args.size() == 1, std::string("raven ") + command + " takes one job id",
                "`raven jobs` lists your jobs and their ids");
    bool ok = false;
    args[0].toLongLong(&ok);
    RAVEN_CHECK(ok, "'" + args[0].toStdString() + "' is not a job id", "job ids are numbers; `raven jobs` lists yours");
    return args[0];
}

}  // namespace raven::cli
