// One instance per user and the control command. In process: a second listen() on the same name
// fails while the first answers, a socket left by a crashed instance is taken over, commands reach
// the handler and answers come back. With the real binary (offscreen): the app starts, a second
// launch exits after raising it, and `raven-contributor --status/--pause/--snooze/--resume` change
// and print the running app's state; without a running app they say so and fail.
#include <QDir>
#include <QLocalServer>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QtConcurrent/QtConcurrentRun>

#include "ControlChannel.h"

using namespace raven::contributor;

namespace {

// send() blocks, so it runs on another thread while this one serves.
std::optional<QString> sendServed(const QString& name, const QString& line) {
    auto future = QtConcurrent::run([=] { return ControlChannel::send(name, line); });
    if (!QTest::qWaitFor([&] { return future.isFinished(); }, 10000)) return std::nullopt;
    return future.result();
}

QString binary() { return qEnvironmentVariable("RAVEN_BINARY_DIR") + "/app-contributor/raven-contributor"; }

}  // namespace

class TestControlChannel : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    QString uniqueName(const QString& what) {
        return QStringLiteral("raven-test-%1-%2").arg(what).arg(QCoreApplication::applicationPid());
    }

    // Runs the binary with `args`, returns (exit code, stdout + stderr).
    std::pair<int, QString> run(const QStringList& args) {
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(binary(), args);
        if (!p.waitForFinished(20000)) {
            p.kill();
            return {-1, QStringLiteral("timed out")};
        }
        return {p.exitCode(), QString::fromUtf8(p.readAll()).trimmed()};
    }

private slots:
    void secondInstanceIsRefusedAndCommandsAnswered() {
        const QString name = uniqueName("inproc");
        ControlChannel first(name);
        QVERIFY(first.listen());
        QStringList seen;
        first.setHandler([&](const QString& command, const QString& argument) {
            seen << command + "|" + argument;
            return QStringLiteral("ok did %1").arg(command);
        });
        // The second listen() asks whether someone answers: it must be served meanwhile.
        auto second = QtConcurrent::run([=] {
            ControlChannel other(name);
            return other.listen();
        });
        QVERIFY(QTest::qWaitFor([&] { return second.isFinished(); }, 10000));
        QVERIFY(!second.result());
        QCOMPARE(sendServed(name, "snooze 1h"), std::optional<QString>("ok did snooze"));
        QCOMPARE(seen, QStringList{"snooze|1h"});
        QCOMPARE(sendServed(name, "ping"), std::optional<QString>("ok raven-contributor"));
    }

    void staleSocketIsTakenOver() {
        const QString name = uniqueName("stale");
        // A socket file nobody serves: what a crashed instance leaves behind.
        {
            QLocalServer crashed;
            QVERIFY(crashed.listen(name));
            const QString path = crashed.fullServerName();
            crashed.close();
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));  // leave a plain file where the socket was
        }
        ControlChannel channel(name);
        QVERIFY(channel.listen());
    }

    void nothingRunning() {
        QCOMPARE(ControlChannel::send(uniqueName("absent"), "status", 500), std::nullopt);
        const auto [code, out] = run({"--status", "--instance", uniqueName("absent")});
        QCOMPARE(code, 3);
        QVERIFY2(out.contains("not running"), qPrintable(out));
    }

    void realAppAnswersTheCommandLine() {
        QVERIFY2(QFile::exists(binary()), qPrintable(binary()));
        const QString name = uniqueName("app");
        const QString config = dir_.filePath("app.ini");
        // Set up for a coordinator that is not there: the app runs, the worker retries meanwhile.
        {
            QFile f(config);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("[Coordinator]\nUrl=wss://127.0.0.1:9\nToken=t\n[When]\nCompute=always\n");
        }
        QProcess app;
        app.setProcessChannelMode(QProcess::ForwardedChannels);
        app.start(binary(), {"--instance", name, "--config", config, "--state-dir", dir_.filePath("state")});
        QVERIFY(app.waitForStarted());
        const auto stopApp = qScopeGuard([&] {
            app.terminate();
            if (!app.waitForFinished(5000)) app.kill();
        });
        QVERIFY(QTest::qWaitFor([&] { return ControlChannel::send(name, "ping", 200).has_value(); }, 20000));

        // Nothing answers at port 9: once the first try failed, the status says so rather than
        // "computing", and that the app keeps trying.
        int code = -1;
        QString out;
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         std::tie(code, out) = run({"--status", "--instance", name});
                         return out.startsWith("waiting: ");
                     },
                     20000),
                 qPrintable(out));
        QCOMPARE(code, 0);
        QCOMPARE(out, QStringLiteral("waiting: waiting: cannot reach the coordinator at 127.0.0.1:9; trying again by "
                                     "itself"));

        std::tie(code, out) = run({"--pause", "--instance", name});
        QCOMPARE(code, 0);
        QCOMPARE(out, QStringLiteral("paused: paused by you: choose Resume to compute again"));
        std::tie(code, out) = run({"--status", "--instance", name});
        QVERIFY2(out.startsWith("paused:"), qPrintable(out));

        // Resumed: allowed to compute, but nothing answers at port 9 to hand it a unit.
        std::tie(code, out) = run({"--resume", "--instance", name});
        QVERIFY2(out.startsWith("waiting: waiting: "), qPrintable(out));
        std::tie(code, out) = run({"--snooze", "1h", "--instance", name});
        QCOMPARE(code, 0);
        // An hour, counted down from the moment it was asked.
        QVERIFY2(out.startsWith("snoozed: snoozed until") &&
                     (out.endsWith("(1 h 00 min left)") || out.endsWith("(59 min left)")),
                 qPrintable(out));
        std::tie(code, out) = run({"--snooze", "whenever", "--instance", name});
        QCOMPARE(code, 2);
        QVERIFY2(out.contains("is not a snooze"), qPrintable(out));
        std::tie(code, out) = run({"--resume", "--instance", name});
        QVERIFY2(out.startsWith("waiting: waiting: "), qPrintable(out));

        // A second launch raises the first and exits.
        std::tie(code, out) = run({"--instance", name, "--config", config});
        QCOMPARE(code, 0);
        QVERIFY2(out.contains("already running; its window is raised"), qPrintable(out));
        QCOMPARE(app.state(), QProcess::Running);

        // SIGTERM (logout, systemd, kill) ends it as its Quit does, handing work back, not killed.
        app.terminate();
        QVERIFY(app.waitForFinished(45000));
        QCOMPARE(app.exitStatus(), QProcess::NormalExit);
        QCOMPARE(app.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestControlChannel)
#include "tst_ControlChannel.moc"
