# cmake -DNAME=n -DSPV=in.spv -DOUT=out.cpp -P EmbedSpirv.cmake
# Writes the SPIR-V words of one shader as a C++ array (spv_NAME, spv_NAME_words).
file(READ ${SPV} hex HEX)
string(LENGTH "${hex}" len)
math(EXPR rem "${len} % 8")
if(NOT rem EQUAL 0 OR len EQUAL 0)
  message(FATAL_ERROR "${SPV} is not SPIR-V (size is not a whole number of 32-bit words)")
endif()
# SPIR-V is little-endian on every target we build for: byte-swap each word into a hex literal.
string(REGEX REPLACE "([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])" "0x\\4\\3\\2\\1u," words "${hex}")
math(EXPR count "${len} / 8")
file(WRITE ${OUT} "// Generated from ${NAME}.comp by cmake/EmbedSpirv.cmake; do not edit.\n#include <cstddef>\n#include <cstdint>\nnamespace raven::shaders {\nextern const std::uint32_t spv_${NAME}[] = {${words}};\nextern const std::size_t spv_${NAME}_words = ${count};\n}\n")
