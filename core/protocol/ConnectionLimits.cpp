#include "protocol/ConnectionLimits.h"

#include <sys/resource.h>

#include <algorithm>

namespace raven::protocol {

namespace {
// Descriptors kept for everything that is not a peer: SQLite and its journal, shards and results
// being read or written, the TLS identity, logs, the lock file, Qt's own.
constexpr long kReservedDescriptors = 96;
}  // namespace

ConnectionLimits::ConnectionLimits(Config config)
    : maxConnections_(effectiveMaxConnections(config.maxConnections, raiseFileLimit())),
      maxPerAddress_(std::max(1, config.maxPerAddress)) {}

std::optional<QString> ConnectionLimits::admit(const QHostAddress& peer) {
    if (total_ >= maxConnections_)
        return QStringLiteral("the coordinator holds its maximum of %1 connections").arg(maxConnections_);
    const QString key = keyOf(peer);
    const int mine = perAddress_.value(key, 0);
    if (mine >= maxPerAddress_)
        return QStringLiteral("%1 already holds %2 connections, the most one address may").arg(key).arg(mine);
    perAddress_[key] = mine + 1;
    ++total_;
    return std::nullopt;
}

void ConnectionLimits::release(const QHostAddress& peer) {
    const QString key = keyOf(peer);
    auto it = perAddress_.find(key);
    if (it == perAddress_.end()) return;  // never admitted: nothing to give back
    if (--it.value() <= 0) perAddress_.erase(it);
    total_ = std::max(0, total_ - 1);
}

int ConnectionLimits::from(const QHostAddress& peer) const { return perAddress_.value(keyOf(peer), 0); }

int ConnectionLimits::effectiveMaxConnections(int wanted, long fileLimit) {
    if (fileLimit <= 0) return std::max(1, wanted);  // unknown or unlimited
    const long room = std::max<long>(1, fileLimit - kReservedDescriptors);
    return static_cast<int>(std::max<long>(1, std::min<long>(wanted, room)));
}

long ConnectionLimits::raiseFileLimit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    if (limit.rlim_cur == RLIM_INFINITY) return -1;
    return static_cast<long>(std::min<rlim_t>(limit.rlim_cur, 1L << 30));
}

QString ConnectionLimits::keyOf(const QHostAddress& peer) {
    bool isV4 = false;
    const quint32 v4 = peer.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4).toString() : peer.toString();
}

}  // namespace raven::protocol
