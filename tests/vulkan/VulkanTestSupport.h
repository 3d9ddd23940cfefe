#pragma once
// Shared by the Vulkan test suites: opening the instance (or knowing why a machine has no Vulkan at
// all) and the rule that every test ends with zero validation messages.
#include "vulkan/Instance.h"

#include <QString>
#include <QStringList>

#include <cstdlib>
#include <filesystem>
#include <memory>

namespace raven::test {

// The Instance for a test suite, or nullptr with `skipReason` set when this machine truly has no
// Vulkan driver. When the test environment names a driver file that exists (lavapipe, in CI), failing
// to open Vulkan is an error thrown to the test, never a skip.
inline std::shared_ptr<vulkan::Instance> openInstance(QString& skipReason) {
    try {
        return std::make_shared<vulkan::Instance>();
    } catch (const vulkan::NoVulkanDevice& error) {
        const char* driver = std::getenv("VK_DRIVER_FILES");
        if (driver && std::filesystem::exists(driver)) throw;
        skipReason = QStringLiteral("no Vulkan driver on this machine (install mesa-vulkan-drivers): ") +
                     QString::fromStdString(error.message());
        return nullptr;
    }
}

// The validation messages recorded after the first `since`, one per line, for a failure report.
inline QString validationReport(const vulkan::Instance& instance, std::size_t since) {
    QStringList lines;
    const auto messages = instance.validationMessages();
    for (std::size_t i = since; i < messages.size(); ++i) lines << QString::fromStdString(messages[i]);
    return QStringLiteral("%1 Vulkan validation message(s):\n").arg(lines.size()) + lines.join('\n');
}

}  // namespace raven::test

// In a test class with `std::shared_ptr<Instance> instance_` and `std::size_t messagesBefore_`:
// init() remembers the count, cleanup() fails the test that produced any message.
#define RAVEN_VULKAN_VALIDATION_CHECKS                                                      \
    void init() { messagesBefore_ = instance_ ? instance_->validationMessageCount() : 0; }  \
    void cleanup() {                                                                        \
        if (!instance_) return;                                                             \
        QVERIFY2(instance_->validationMessageCount() == messagesBefore_,                    \
                 qPrintable(::raven::test::validationReport(*instance_, messagesBefore_))); \
    }
