# raven_warnings: link it PRIVATE into every Raven target so that our own code builds with warnings on
# (and fatal with RAVEN_WERROR), while third-party headers (Qt, Eigen, Vulkan) come in as system headers.
add_library(raven_warnings INTERFACE)
target_compile_options(raven_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough -Wformat=2
  # Vulkan's C structs are meant to be filled as `VkFooInfo info{VK_STRUCTURE_TYPE_FOO_INFO};` (the rest
  # zero-initialised by the language); flagging every such line would hide the warnings that matter.
  -Wno-missing-field-initializers)
if(RAVEN_WERROR)
  target_compile_options(raven_warnings INTERFACE -Werror)
endif()
