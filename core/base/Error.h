#pragma once
// Two kinds of failure, kept apart (as ggml and PyTorch do):
//  - raven::Error is for what a caller can recover from: bad input, a corrupt file, a wrong shape, a
//    missing device. Its message says what happened; its hint says what to do next. Throw it with
//    raven::fail(...) or check with RAVEN_CHECK(cond, msg, hint).
//  - RAVEN_ASSERT is for broken invariants (a bug in Raven). It aborts loudly in every build, because
//    continuing with a corrupted model or ledger is worse than stopping.
#include <stdexcept>
#include <string>

namespace raven {

class Error : public std::runtime_error {
public:
    Error(std::string message, std::string hint = {})
        : std::runtime_error(hint.empty() ? message : message + "\n  hint: " + hint),
          message_(std::move(message)),
          hint_(std::move(hint)) {}

    // What happened, without the hint.
    const std::string& message() const noexcept { return message_; }
    // What the person should do next; may be empty.
    const std::string& hint() const noexcept { return hint_; }

private:
    std::string message_;
    std::string hint_;
};

[[noreturn]] inline void fail(std::string message, std::string hint = {}) {
    throw Error(std::move(message), std::move(hint));
}

[[noreturn]] void assertionFailed(const char* expr, const char* file, int line, const std::string& detail);

}  // namespace raven

#define RAVEN_CHECK(cond, message, hint)               \
    do {                                               \
        if (!(cond)) ::raven::fail((message), (hint)); \
    } while (false)

#define RAVEN_ASSERT(cond, detail)                                                  \
    do {                                                                            \
        if (!(cond)) ::raven::assertionFailed(#cond, __FILE__, __LINE__, (detail)); \
    } while (false)
