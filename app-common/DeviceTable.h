#pragma once
// A table of the compute devices on this machine: each Vulkan device (GPU, or Mesa's lavapipe) and
// the CPU, with what matters for training on them (type, memory, subgroup size, shared memory).
// Both GUIs show it: the contributor sees what it donates, the requester what local training uses.
#include <QTableWidget>

namespace raven::app {

class DeviceTable : public QTableWidget {
    Q_OBJECT
public:
    explicit DeviceTable(QWidget* parent = nullptr);

    // Enumerates the devices again (Vulkan and CPU) and fills the table. A machine without a Vulkan
    // driver still shows the CPU, and the reason appears in statusText().
    void refresh();

    // One line about the enumeration: how many devices, or why Vulkan is not available.
    QString statusText() const { return status_; }

signals:
    void refreshed();

private:
    void addRow(const QStringList& cells);
    QString status_;
};

}  // namespace raven::app
