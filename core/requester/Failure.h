#pragma once
// Failure: why a requester's call did not succeed, in words a person can act on.
//
// Every asynchronous call of RequesterClient ends in exactly one of its two callbacks: the result,
// or a Failure. A Failure carries the coordinator's Error (code, what happened, what to do) when the
// coordinator refused the request, or one made here when the connection was lost or the answer made
// no sense. Where the coordinator gave no hint, one that fits the code is filled in.
//
//   client.listJobs({[](const QList<wire::JobInfo>& jobs) { ... },
//                    [](const Failure& f) { qWarning() << f.text(); }});
//   ...
//   failure.raise();   // as a raven::Error (message + hint), for blocking callers
#include <QString>
#include <functional>

#include "protocol/raven.pb.h"

namespace raven::requester {

struct Failure {
    wire::ErrorCode code = wire::ERROR_CODE_UNSPECIFIED;  // UNAVAILABLE: the connection is gone
    QString message;                                      // what happened
    QString hint;                                         // what to do next; may be empty

    // The coordinator's Error, with a hint for its code where it sent none.
    static Failure fromError(const wire::Error& error);
    // "message\n  hint: hint", as raven::Error prints it.
    QString text() const;
    // Throws it as a raven::Error.
    [[noreturn]] void raise() const;
};

using OnFailure = std::function<void(const Failure&)>;

// The two ends of an asynchronous call: `done` with the result, or `failed`. Either may be empty.
template <typename T>
struct Reply {
    std::function<void(const T&)> done;
    OnFailure failed;
};

// What a person can do about an error of this code (empty when nothing general applies).
QString hintFor(wire::ErrorCode code);

}  // namespace raven::requester
