# raven_warnings: link it PRIVATE into every Raven target so that our own code builds with warnings on
# (and fatal with RAVEN_WERROR), while third-party headers (Qt, Eigen, Vulkan) come in as system headers.
add_library(raven_warnings INTERFACE)
target_compile_options(raven_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough -Wformat=2)
if(RAVEN_WERROR)
  target_compile_options(raven_warnings INTERFACE -Werror)
endif()
