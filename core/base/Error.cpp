#include "base/Error.h"

#include <cstdio>
#include <cstdlib>

namespace raven {

void assertionFailed(const char* expr, const char* file, int line, const std::string& detail) {
    std::fprintf(stderr, "raven: internal error (a bug, please report it): %s:%d: %s failed: %s\n", file, line, expr,
                 detail.c_str());
    std::fflush(stderr);
    std::abort();
}

}  // namespace raven
