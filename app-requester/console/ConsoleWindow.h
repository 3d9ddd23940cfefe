#pragma once
// The requester console's main window. Today it shows where local training would run (the devices
// table); the dataset, model and job pages join it as the engine lands.
#include <QMainWindow>

class QLabel;

namespace raven::app {
class DeviceTable;
}

namespace raven::console {

class ConsoleWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit ConsoleWindow(QWidget* parent = nullptr);

    app::DeviceTable* devices() const { return devices_; }

private:
    void showAbout();

    app::DeviceTable* devices_ = nullptr;
    QLabel* status_ = nullptr;
};

}  // namespace raven::console
