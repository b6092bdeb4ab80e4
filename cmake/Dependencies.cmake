# Every dependency is a Debian 12 package (see scripts/lib/deps.sh for the package list).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(mimalloc 2.0 CONFIG REQUIRED)        # mimalloc (shared; overrides malloc/new)
find_package(zstd 1.5 CONFIG REQUIRED)            # zstd::libzstd_shared
find_package(FlatBuffers 2.0 CONFIG REQUIRED)     # flatbuffers::flatbuffers, flatbuffers::flatc
find_package(nlohmann_json 3.11 CONFIG REQUIRED)  # nlohmann_json::nlohmann_json
if(MOESTREAM_BUILD_TESTS AND BUILD_TESTING)
  find_package(doctest 2.4 CONFIG REQUIRED)       # doctest::doctest
endif()
pkg_check_modules(URING   REQUIRED IMPORTED_TARGET liburing>=2.3)
pkg_check_modules(CPUINFO REQUIRED IMPORTED_TARGET libcpuinfo)      # cpuinfo's CMake config is broken
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib>=0.11) # the .pc defines are ABI-relevant
pkg_check_modules(LIBEDIT REQUIRED IMPORTED_TARGET libedit)  # line editing in `moestream chat`
pkg_check_modules(PCRE2   REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(XXHASH  REQUIRED IMPORTED_TARGET libxxhash)

find_path(PTHREADPOOL_INCLUDE_DIR pthreadpool.h REQUIRED)
find_library(PTHREADPOOL_LIBRARY pthreadpool REQUIRED)
find_path(XNNPACK_INCLUDE_DIR xnnpack.h REQUIRED)
find_library(XNNPACK_LIBRARY XNNPACK REQUIRED)
if(NOT TARGET pthreadpool::pthreadpool)
  add_library(pthreadpool::pthreadpool UNKNOWN IMPORTED)
  set_target_properties(pthreadpool::pthreadpool PROPERTIES
    IMPORTED_LOCATION "${PTHREADPOOL_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${PTHREADPOOL_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
if(NOT TARGET XNNPACK::XNNPACK)
  add_library(XNNPACK::XNNPACK UNKNOWN IMPORTED)
  set_target_properties(XNNPACK::XNNPACK PROPERTIES
    IMPORTED_LOCATION "${XNNPACK_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${XNNPACK_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "pthreadpool::pthreadpool;PkgConfig::CPUINFO")
endif()
