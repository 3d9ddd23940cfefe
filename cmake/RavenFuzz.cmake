# RAVEN_FUZZ: the libFuzzer build (preset `fuzz`, scripts/fuzz.sh). Everything is compiled with
# clang's coverage instrumentation for libFuzzer plus AddressSanitizer and UndefinedBehaviorSanitizer
# (undefined behaviour is fatal, so a signed overflow is a crash the fuzzer reports); the fuzz
# targets in tests/fuzz link libFuzzer itself. Needs clang and libclang-rt-14-dev (setup-debian.sh).
if(RAVEN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "RAVEN_FUZZ needs clang (libFuzzer): configure with `cmake --preset fuzz`, "
                        "or pass -DCMAKE_CXX_COMPILER=clang++; this build uses ${CMAKE_CXX_COMPILER_ID}")
  endif()
  if(RAVEN_SANITIZE)
    message(FATAL_ERROR "RAVEN_FUZZ already builds with ASan and UBSan; leave RAVEN_SANITIZE off")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
