#pragma once
// RequestError: how a handler refuses one request. It becomes an Error{code, message, hint} answer
// with the request's id; the connection stays open and every other connection carries on.
//
//   if (!job) refuse(wire::ERROR_CODE_NOT_FOUND, "no job 12", "list your jobs with `raven jobs`");
//   Manifest m = asInvalidArgument([&] { return Manifest::fromBytes(bytes, "upload"); });
//
// A raven::Error that escapes a handler is a failure of the coordinator itself (disk, store) and is
// answered INTERNAL; input the peer sent is checked inside asInvalidArgument(), which turns the
// checker's raven::Error (message and hint) into INVALID_ARGUMENT.
#include <QString>

#include <exception>
#include <string>
#include <utility>

#include "base/Error.h"
#include "protocol/raven.pb.h"

namespace raven::coordinator {

struct RequestError : std::exception {
    RequestError(wire::ErrorCode c, QString m, QString h) : code(c), message(std::move(m)), hint(std::move(h)) {}
    const char* what() const noexcept override { return "request refused"; }

    wire::ErrorCode code;
    QString message;
    QString hint;
};

[[noreturn]] inline void refuse(wire::ErrorCode code, const QString& message, const QString& hint = {}) {
    throw RequestError(code, message, hint);
}

template <class Check>
auto asInvalidArgument(Check&& check) -> decltype(check()) {
    try {
        return check();
    } catch (const raven::Error& e) {
        refuse(wire::ERROR_CODE_INVALID_ARGUMENT, QString::fromStdString(e.message()),
               QString::fromStdString(e.hint()));
    }
}

}  // namespace raven::coordinator
