// The settings table: defaults, ranges and types refused with a sentence, choices, rules of their
// own (schedule, coordinator URL, devices), a change signal for each stored change, a hand-edited
// bad value read as the default; the limits handed to the policy; the autostart entry; the invite.
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "Autostart.h"
#include "ComputeDevices.h"
#include "ContributorConfig.h"
#include "Invite.h"
#include "protocol/KnownHosts.h"

using namespace raven::contributor;

class TestContributorConfig : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void tableIsInEnumOrderWithUniqueNames() {
        QSet<QString> names;
        for (std::size_t i = 0; i < ContributorConfig::keys().size(); ++i) {
            const auto& k = ContributorConfig::keys()[i];
            QCOMPARE(static_cast<std::size_t>(k.key), i);
            QVERIFY(!names.contains(QString::fromLatin1(k.name)));
            names.insert(QString::fromLatin1(k.name));
            // Every default obeys its own rules.
            QVERIFY2(ContributorConfig::validate(k.key, k.defaultValue).isEmpty(), k.name);
        }
    }

    void defaultsUntilSet() {
        ContributorConfig config(dir_.filePath("defaults.ini"));
        QCOMPARE(config.get(ConfigKey::GpuCapPercent).toInt(), 100);
        QCOMPARE(config.get(ConfigKey::IdleMinutes).toInt(), 3);
        QCOMPARE(config.get(ConfigKey::PauseOnBattery).toBool(), true);
        QCOMPARE(config.get(ConfigKey::ComputeWhen).toString(), QStringLiteral("idle"));
        QVERIFY(!config.isSetUp());
    }

    void refusesWhereEntered_data() {
        QTest::addColumn<int>("key");
        QTest::addColumn<QVariant>("value");
        QTest::addColumn<QString>("why");
        QTest::newRow("cap above 100") << int(ConfigKey::GpuCapPercent) << QVariant(150)
                                       << "GPU usage cap (%) must be between 10 and 100";
        QTest::newRow("cap below 10") << int(ConfigKey::GpuCapPercent) << QVariant(5)
                                      << "GPU usage cap (%) must be between 10 and 100";
        QTest::newRow("idle minutes not a number")
            << int(ConfigKey::IdleMinutes) << QVariant("soon") << "Idle for (minutes) wants a whole number";
        QTest::newRow("unknown choice") << int(ConfigKey::ComputeWhen) << QVariant("sometimes")
                                        << "Compute must be one of: idle, always";
        QTest::newRow("bad schedule") << int(ConfigKey::Schedule) << QVariant("Mon 9-5") << "is not hours";
        QTest::newRow("http coordinator")
            << int(ConfigKey::CoordinatorUrl) << QVariant("http://x:80") << "write the coordinator as wss://host:port";
        QTest::newRow("device by index") << int(ConfigKey::Devices) << QVariant("gpu0") << "is not a device";
        QTest::newRow("negative threads") << int(ConfigKey::CpuThreads) << QVariant(-1) << "must be between 0 and";
    }
    void refusesWhereEntered() {
        QFETCH(int, key);
        QFETCH(QVariant, value);
        QFETCH(QString, why);
        ContributorConfig config(dir_.filePath("refuse.ini"));
        const ConfigKey k = static_cast<ConfigKey>(key);
        const QVariant before = config.get(k);
        QSignalSpy changed(&config, &ContributorConfig::changed);
        QString got;
        QVERIFY(!config.set(k, value, &got));
        QVERIFY2(got.contains(why), qPrintable(got));
        QCOMPARE(config.get(k), before);
        QCOMPARE(changed.count(), 0);
    }

    void storesAndSignalsOnce() {
        const QString path = dir_.filePath("store.ini");
        {
            ContributorConfig config(path);
            QSignalSpy changed(&config, &ContributorConfig::changed);
            QVERIFY(config.set(ConfigKey::GpuCapPercent, 50));
            QVERIFY(config.set(ConfigKey::GpuCapPercent, 50));  // the same value: no second signal
            QVERIFY(config.set(ConfigKey::Schedule, "Mon-Fri 18:00-08:00; Sat,Sun all"));
            QCOMPARE(changed.count(), 2);
            QCOMPARE(changed.at(0).at(0).value<ConfigKey>(), ConfigKey::GpuCapPercent);
        }
        ContributorConfig again(path);  // a new instance reads the file
        QCOMPARE(again.get(ConfigKey::GpuCapPercent).toInt(), 50);
        const PolicyLimits l = again.policyLimits();
        QCOMPARE(l.gpuCapPercent, 50);
        QVERIFY(!l.schedule.alwaysAllowed());
        QVERIFY(l.schedule.allows(QDateTime(QDate(2026, 12, 5), QTime(12, 0))));  // Saturday
    }

    void handEditedNonsenseReadsAsDefault() {
        const QString path = dir_.filePath("edited.ini");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[Limits]\nGpuCapPercent=900\n[When]\nCompute=sometimes\nIdleMinutes=7\n");
        f.close();
        ContributorConfig config(path);
        QCOMPARE(config.get(ConfigKey::GpuCapPercent).toInt(), 100);
        QCOMPARE(config.get(ConfigKey::ComputeWhen).toString(), QStringLiteral("idle"));
        QCOMPARE(config.get(ConfigKey::IdleMinutes).toInt(), 7);
    }

    void limitsForThePolicy() {
        ContributorConfig config(dir_.filePath("limits.ini"));
        QVERIFY(config.set(ConfigKey::ComputeWhen, "always"));
        QVERIFY(config.set(ConfigKey::WhileActive, "lighter"));
        QVERIFY(config.set(ConfigKey::ActiveGpuPercent, 30));
        QVERIFY(config.set(ConfigKey::PauseOnBattery, false));
        QVERIFY(config.set(ConfigKey::CpuThreads, 1));
        const PolicyLimits l = config.policyLimits();
        QCOMPARE(l.when, PolicyLimits::When::Always);
        QCOMPARE(l.whileActive, PolicyLimits::WhileActive::Lighter);
        QCOMPARE(l.activeGpuPercent, 30);
        QCOMPARE(l.pauseOnBattery, false);
        QCOMPARE(l.cpuThreads, 1);
    }

    void autostartEntryWrittenAndRemoved() {
        const QString autostart = dir_.filePath("autostart");
        QVERIFY(setStartAtLogin(true, autostart));
        QFile f(autostartPath(autostart));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray text = f.readAll();
        QVERIFY(text.contains("Exec=raven-contributor --hidden"));
        f.close();
        QVERIFY(setStartAtLogin(false, autostart));
        QVERIFY(!QFile::exists(autostartPath(autostart)));
    }

    void inviteRoundTripAndPin() {
        Invite in;
        in.host = QStringLiteral("coord.example.org");
        in.port = 7443;
        in.fingerprint = QStringLiteral("sha256:") + QStringList(32, QStringLiteral("AB")).join(QLatin1Char(':'));
        in.token = QStringLiteral("tok+en/with=odd&chars");
        in.name = QStringLiteral("ana's box");
        const QString line = in.toString();
        QVERIFY2(line.startsWith(QLatin1String("raven://coord.example.org:7443?")), qPrintable(line));
        QString why;
        const auto back = Invite::parse(line, &why);
        QVERIFY2(back, qPrintable(why));
        QCOMPARE(back->token, in.token);
        QCOMPARE(back->fingerprint, in.fingerprint);
        QCOMPARE(back->name, in.name);
        QCOMPARE(back->coordinatorUrl().toString(), QStringLiteral("wss://coord.example.org:7443"));

        ContributorConfig config(dir_.filePath("joined.ini"));
        const QString knownHosts = dir_.filePath("known_hosts");
        QVERIFY(joinCoordinator(config, knownHosts, *back, QStringLiteral("box-1"), &why));
        QVERIFY(config.isSetUp());
        QCOMPARE(config.get(ConfigKey::MachineName).toString(), QStringLiteral("box-1"));
        QCOMPARE(raven::protocol::KnownHosts(knownHosts).check("coord.example.org:7443", in.fingerprint).verdict,
                 raven::protocol::KnownHosts::Verdict::Trusted);
    }

    void inviteRefusals_data() {
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("why");
        QTest::newRow("not raven://") << "wss://h:1"
                                      << "starts with raven://";
        QTest::newRow("no port") << "raven://h?fp=x&token=t"
                                 << "no host:port";
        QTest::newRow("cut fingerprint") << "raven://h:7443?fp=sha256:AB:CD&token=t"
                                         << "fingerprint";
        QTest::newRow("no token") << QStringLiteral("raven://h:7443?fp=sha256:") +
                                         QStringList(32, QStringLiteral("0F")).join(':')
                                  << "no token";
    }
    void inviteRefusals() {
        QFETCH(QString, line);
        QFETCH(QString, why);
        QString got;
        QVERIFY(!Invite::parse(line, &got));
        QVERIFY2(got.contains(why), qPrintable(got));
    }

    void devicesChosenByIdentity() {
        std::vector<ComputeDevice> devices(3);
        devices[0] = {QStringLiteral("vulkan:aa"), "GPU A", "discrete GPU", 8 << 20, 1, true, {}};
        devices[1] = {QStringLiteral("vulkan:bb"), "GPU B", "discrete GPU", 8 << 20, 0, true, {}};
        devices[2] = {QStringLiteral("cpu"), "CPU", "CPU", 0, -1, true, {}};
        // The loader lists B first today: the choice of A still picks A, at its index of today.
        QCOMPARE(workerDeviceFor("vulkan:aa", devices).selector, QStringLiteral("vulkan:1"));
        QCOMPARE(workerDeviceFor("vulkan:bb,vulkan:aa", devices).selector, QStringLiteral("vulkan:0"));
        const WorkerDevice gone = workerDeviceFor("vulkan:cc", devices);
        QCOMPARE(gone.selector, QStringLiteral("cpu"));
        QVERIFY2(gone.note.contains("not available now; computing on the CPU"), qPrintable(gone.note));
        const WorkerDevice second = workerDeviceFor("vulkan:cc,vulkan:bb", devices);
        QCOMPARE(second.selector, QStringLiteral("vulkan:0"));
        QVERIFY(second.note.contains("GPU B"));
        QCOMPARE(workerDeviceFor("cpu", devices).note, QString());
    }
};

QTEST_GUILESS_MAIN(TestContributorConfig)
#include "tst_ContributorConfig.moc"
