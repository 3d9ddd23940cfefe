#pragma once
// The devices this machine can donate, each with a check box: name, kind, memory and the device UUID
// by which the choice is remembered (it survives reboots, driver updates and a new GPU). Checking and
// unchecking writes ConfigKey::Devices at once; the worker restarts on the new choice.
#include <QWidget>

#include <vector>

#include "ComputeDevices.h"

class QLabel;
class QTableWidget;

namespace raven::contributor {

class ContributorConfig;

class DevicesPage : public QWidget {
    Q_OBJECT
public:
    explicit DevicesPage(ContributorConfig& config, QWidget* parent = nullptr);
    void refresh();  // enumerates again
    QTableWidget* table() const { return table_; }

private:
    void writeChoice();
    ContributorConfig& config_;
    QTableWidget* table_ = nullptr;
    QLabel* note_ = nullptr;
    std::vector<ComputeDevice> devices_;
    bool loading_ = false;
};

}  // namespace raven::contributor
