#include "protocol/EventDispatcher.h"

#include <QByteArray>
#include <QtGlobal>

namespace raven::protocol {

void preferScalableEventDispatcher() {
    // Read by QCoreApplication's constructor when it picks the dispatcher of the main thread (and of
    // every QThread started later).
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB")) qputenv("QT_NO_GLIB", QByteArrayLiteral("1"));
}

}  // namespace raven::protocol
