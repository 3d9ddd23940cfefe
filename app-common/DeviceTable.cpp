#include "DeviceTable.h"

#include <QHeaderView>
#include <thread>

#include "vulkan/DeviceInfo.h"
#include "vulkan/Instance.h"

namespace raven::app {

namespace {
QString mebibytes(std::uint64_t bytes) { return QStringLiteral("%1 MiB").arg(bytes >> 20); }
}  // namespace

DeviceTable::DeviceTable(QWidget* parent) : QTableWidget(0, 6, parent) {
    setObjectName("deviceTable");
    setHorizontalHeaderLabels(
        {tr("Device"), tr("Kind"), tr("Memory"), tr("Subgroup"), tr("Shared memory"), tr("Driver")});
    horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    horizontalHeader()->setStretchLastSection(true);
    verticalHeader()->hide();
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setSelectionBehavior(QAbstractItemView::SelectRows);
}

void DeviceTable::addRow(const QStringList& cells) {
    const int row = rowCount();
    insertRow(row);
    for (int c = 0; c < cells.size(); ++c) setItem(row, c, new QTableWidgetItem(cells[c]));
}

void DeviceTable::refresh() {
    setRowCount(0);
    int usable = 0;
    try {
        vulkan::Instance instance;
        for (const auto& d : vulkan::listDevices(instance)) {
            QString kind =
                QString::fromUtf8(vulkan::toString(d.type).data(), qsizetype(vulkan::toString(d.type).size()));
            if (!d.usable) kind += tr(" (unusable: %1)").arg(QString::fromStdString(d.unusableReason));
            usable += d.usable ? 1 : 0;
            addRow({QString::fromStdString(d.name),
                    QStringLiteral("Vulkan %1, %2")
                        .arg(QString::fromStdString(vulkan::apiVersionString(d.apiVersion)), kind),
                    mebibytes(d.deviceLocalBytes), QString::number(d.subgroupSize),
                    QStringLiteral("%1 KiB").arg(d.maxComputeSharedMemorySize / 1024),
                    QString::fromStdString(d.driverName + " " + d.driverInfo)});
        }
        status_ = usable == 1 ? tr("1 Vulkan device usable for training, and the CPU.")
                              : tr("%1 Vulkan devices usable for training, and the CPU.").arg(usable);
    } catch (const Error& e) {
        status_ = tr("No Vulkan device: %1 Training runs on the CPU.").arg(QString::fromStdString(e.message()));
    }
    addRow({tr("CPU (%1 threads)").arg(std::thread::hardware_concurrency()), tr("CPU backend (Eigen)"),
            tr("system memory"), QStringLiteral("-"), QStringLiteral("-"), QStringLiteral("-")});
    emit refreshed();
}

}  // namespace raven::app
