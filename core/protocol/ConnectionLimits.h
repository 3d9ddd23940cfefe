#pragma once
// ConnectionLimits: who may open one more connection to the coordinator. A pure count per peer
// address and in all, asked before anything is spent on a new TCP connection (no TLS, no buffers),
// so that one stranger's burst cannot use up the file descriptors or crowd out everyone else.
//
//   ConnectionLimits limits({.maxConnections = 16384, .maxPerAddress = 64});
//   if (auto refusal = limits.admit(address)) { socket.abort(); log(*refusal); }
//   ...                                          // when that connection ends, whatever its stage:
//   limits.release(address);
//
// maxConnections is also held below the process's file-descriptor limit (RLIMIT_NOFILE, less a
// reserve for the store, the shards and the logs): see effectiveMaxConnections().
#include <QHash>
#include <QHostAddress>
#include <QString>

#include <optional>

namespace raven::protocol {

class ConnectionLimits {
public:
    struct Config {
        int maxConnections = 16384;  // every stage: TLS, upgrade, Hello, sessions (~80 KiB each held)
        int maxPerAddress = 64;     // from one IP address (IPv4-mapped IPv6 counts as its IPv4)
    };

    ConnectionLimits() : ConnectionLimits(Config{}) {}
    explicit ConnectionLimits(Config config);

    // Counts the connection and returns nothing, or refuses it with a reason (and counts nothing).
    std::optional<QString> admit(const QHostAddress& peer);
    void release(const QHostAddress& peer);

    int total() const { return total_; }
    int from(const QHostAddress& peer) const;
    int maxConnections() const { return maxConnections_; }

    // `wanted`, lowered so that `wanted` sockets plus a reserve fit under `fileLimit` descriptors.
    static int effectiveMaxConnections(int wanted, long fileLimit);
    // The soft RLIMIT_NOFILE of this process, after raising it to the hard limit where allowed.
    static long raiseFileLimit();

private:
    static QString keyOf(const QHostAddress& peer);

    int maxConnections_;
    int maxPerAddress_;
    int total_ = 0;
    QHash<QString, int> perAddress_;
};

}  // namespace raven::protocol
