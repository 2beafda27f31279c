# Dependencies.cmake - find Unicorn (>= 2.1, proven to translate addresses),
# Capstone and Check through pkg-config. scripts/provision.sh puts a private
# Unicorn in deps/unicorn when the system has none new enough.
find_package(PkgConfig REQUIRED)

# A system Unicorn >= 2.1 wins (as in provision.sh); deps/ is the fallback.
set(RIG_LOCAL_UNICORN "${CMAKE_SOURCE_DIR}/deps/unicorn/pkgconfig")
pkg_check_modules(RIG_SYSTEM_UNICORN QUIET unicorn>=2.1)
if(NOT RIG_SYSTEM_UNICORN_FOUND AND EXISTS "${RIG_LOCAL_UNICORN}/unicorn.pc")
  set(ENV{PKG_CONFIG_PATH} "${RIG_LOCAL_UNICORN}:$ENV{PKG_CONFIG_PATH}")
endif()

pkg_check_modules(UNICORN REQUIRED IMPORTED_TARGET unicorn)
if(UNICORN_VERSION VERSION_LESS 2.1)
  message(FATAL_ERROR
    "Unicorn ${UNICORN_VERSION} found (${UNICORN_LIBDIR}), but pmaprig needs >= 2.1: "
    "older versions walk the page tables and then access memory at the *virtual* "
    "address, so a paged guest cannot run. Run scripts/provision.sh (or `make run`) "
    "to fetch Debian 13's 2.1 library into deps/.")
endif()
pkg_check_modules(CAPSTONE REQUIRED IMPORTED_TARGET capstone)
pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET libdw libelf)
pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check)

# The paging probe: map a VA to a different PA, store through it, and see
# where the value lands. Identity-forced translation is a configure error.
try_run(RIG_PROBE_RUN RIG_PROBE_COMPILE
  "${CMAKE_BINARY_DIR}/paging-probe"
  "${CMAKE_SOURCE_DIR}/cmake/paging_probe.c"
  CMAKE_FLAGS "-DINCLUDE_DIRECTORIES=${UNICORN_INCLUDE_DIRS}"
  LINK_LIBRARIES ${UNICORN_LINK_LIBRARIES}
  LINK_OPTIONS "-Wl,-rpath,${UNICORN_LIBDIR}"
  COMPILE_OUTPUT_VARIABLE RIG_PROBE_COMPILE_OUT
  RUN_OUTPUT_VARIABLE RIG_PROBE_OUT)
if(NOT RIG_PROBE_COMPILE)
  message(FATAL_ERROR "The Unicorn paging probe did not build:\n${RIG_PROBE_COMPILE_OUT}")
endif()
if(NOT RIG_PROBE_RUN EQUAL 0)
  message(FATAL_ERROR
    "Unicorn ${UNICORN_VERSION} (${UNICORN_LIBDIR}) failed the paging probe:\n${RIG_PROBE_OUT}"
    "pmaprig cannot use it: run scripts/provision.sh to get Unicorn >= 2.1.")
endif()
message(STATUS "Unicorn ${UNICORN_VERSION} passes the paging probe: ${RIG_PROBE_OUT}")
