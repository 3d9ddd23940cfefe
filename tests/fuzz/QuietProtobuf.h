#pragma once
// protobuf logs every string field with invalid UTF-8 it parses (as a peer's garbage often has); the
// parse fails as it should, and millions of log lines would only slow the fuzzer down.
#include <google/protobuf/stubs/logging.h>

namespace raven::fuzz {
inline const bool protobufQuiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
}();
}  // namespace raven::fuzz
