// Drives the two GUI windows for real (offscreen platform, lavapipe as the Vulkan device): they open,
// list this machine's devices (lavapipe and the CPU), refresh on the menu action, and render.
#include <QAction>
#include <QLabel>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include "ConsoleWindow.h"
#include "ContributorApp.h"
#include "ContributorWindow.h"
#include "DeviceTable.h"
#include "DevicesPage.h"

namespace {

QStringList column(const QTableWidget& table, int col) {
    QStringList out;
    for (int r = 0; r < table.rowCount(); ++r) out << table.item(r, col)->text();
    return out;
}

// Saves what a person would see, for the screenshots in docs/ (when RAVEN_SCREENSHOT_DIR is set).
void maybeSave(QWidget& w, const QString& name) {
    const QString dir = qEnvironmentVariable("RAVEN_SCREENSHOT_DIR");
    if (!dir.isEmpty()) QVERIFY(w.grab().save(dir + "/" + name + ".png"));
}

}  // namespace

class WindowsTest : public QObject {
    Q_OBJECT
private slots:
    void consoleListsLavapipeAndCpu() {
        raven::console::ConsoleWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const QStringList names = column(*window.devices(), 0);
        QVERIFY2(names.filter("llvmpipe").size() == 1, qPrintable(names.join(", ")));
        QVERIFY2(names.filter("CPU").size() == 1, qPrintable(names.join(", ")));
        QVERIFY(window.devices()->statusText().contains("Vulkan"));

        QSignalSpy refreshed(window.devices(), &raven::app::DeviceTable::refreshed);
        auto* refresh = window.findChild<QAction*>("refreshDevices");
        QVERIFY(refresh);
        refresh->trigger();
        QCOMPARE(refreshed.count(), 1);
        QCOMPARE(column(*window.devices(), 0), names);
        maybeSave(window, "console");
    }

    void contributorShowsWhatItDonates() {
        QTemporaryDir dir;
        raven::contributor::ContributorApp app(dir.filePath("contributor.ini"));
        raven::contributor::ContributorWindow window(app);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.devices()->table()->rowCount() >= 2);
        maybeSave(window, "contributor");
    }
};

QTEST_MAIN(WindowsTest)
#include "test_windows.moc"
