#include "DevicesPage.h"

#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "ContributorConfig.h"

namespace raven::contributor {

DevicesPage::DevicesPage(ContributorConfig& config, QWidget* parent) : QWidget(parent), config_(config) {
    setObjectName("devicesPage");
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(tr("Check the devices Raven may compute on. The first checked device that is present "
                                "is used; without one, the CPU."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    table_ = new QTableWidget(0, 4, this);
    table_->setObjectName("deviceChoice");
    table_->setHorizontalHeaderLabels({tr("Device"), tr("Kind"), tr("Memory"), tr("Identity (UUID)")});
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    layout->addWidget(table_);
    note_ = new QLabel(this);
    note_->setObjectName("deviceNote");
    note_->setWordWrap(true);
    layout->addWidget(note_);
    auto* again = new QPushButton(tr("&Look for devices again"), this);
    connect(again, &QPushButton::clicked, this, &DevicesPage::refresh);
    layout->addWidget(again, 0, Qt::AlignLeft);
    connect(table_, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
        if (!loading_ && item->column() == 0) writeChoice();
    });
    refresh();
}

void DevicesPage::refresh() {
    QString note;
    devices_ = listComputeDevices(&note);
    const QStringList chosen = config_.get(ConfigKey::Devices).toString().split(QLatin1Char(','), Qt::SkipEmptyParts);
    loading_ = true;
    table_->setRowCount(0);
    for (const ComputeDevice& d : devices_) {
        const int row = table_->rowCount();
        table_->insertRow(row);
        auto* name = new QTableWidgetItem(d.name);
        name->setFlags(d.usable ? Qt::ItemIsEnabled | Qt::ItemIsUserCheckable | Qt::ItemIsSelectable
                                : Qt::ItemIsSelectable);
        name->setCheckState(chosen.contains(d.id) ? Qt::Checked : Qt::Unchecked);
        name->setData(Qt::UserRole, d.id);
        table_->setItem(row, 0, name);
        table_->setItem(
            row, 1, new QTableWidgetItem(d.usable ? d.kind : tr("%1 (unusable: %2)").arg(d.kind, d.unusableReason)));
        table_->setItem(
            row, 2,
            new QTableWidgetItem(d.memoryBytes > 0 ? tr("%1 MiB").arg(d.memoryBytes >> 20) : tr("system memory")));
        table_->setItem(row, 3, new QTableWidgetItem(d.id == QLatin1String("cpu") ? tr("—") : d.id.mid(7)));
    }
    // Chosen devices that are not here now (unplugged, driver gone) stay chosen, and are said so.
    QStringList absent;
    for (const QString& id : chosen) {
        bool here = false;
        for (const ComputeDevice& d : devices_) here = here || d.id == id;
        if (!here) absent << id;
    }
    note_->setText(
        (note.isEmpty() ? QString() : note + QStringLiteral(". ")) +
        (absent.isEmpty()
             ? QString()
             : tr("Chosen but not present now: %1 (the CPU is used instead).").arg(absent.join(QStringLiteral(", ")))));
    loading_ = false;
}

void DevicesPage::writeChoice() {
    QStringList chosen;
    for (int r = 0; r < table_->rowCount(); ++r)
        if (table_->item(r, 0)->checkState() == Qt::Checked)
            chosen << table_->item(r, 0)->data(Qt::UserRole).toString();
    // A chosen device absent today (unplugged) stays chosen for when it is back.
    for (const QString& id : config_.get(ConfigKey::Devices).toString().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool here = false;
        for (const ComputeDevice& d : devices_) here = here || d.id == id;
        if (!here) chosen << id;
    }
    config_.set(ConfigKey::Devices, chosen.join(QLatin1Char(',')));
}

}  // namespace raven::contributor
