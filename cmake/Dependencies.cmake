# Finds the Debian packages lpsim builds on; a missing one stops configuration
# with the name of the package that provides it.
find_package(PkgConfig QUIET)

macro(lpsim_require found what debian_package)
  if(NOT ${found})
    message(FATAL_ERROR "lpsim needs ${what}: install it with `apt-get install ${debian_package}`")
  endif()
endmacro()

if(PkgConfig_FOUND)
  pkg_check_modules(SYSTEMC QUIET IMPORTED_TARGET systemc)
endif()
lpsim_require(SYSTEMC_FOUND "SystemC 2.3 (pkg-config systemc)" "libsystemc-dev pkg-config")

find_package(Boost 1.74 QUIET COMPONENTS graph)
lpsim_require(Boost_FOUND "Boost.Graph" "libboost-graph-dev")

find_package(yaml-cpp QUIET)
lpsim_require(yaml-cpp_FOUND "yaml-cpp" "libyaml-cpp-dev")

find_package(nlohmann_json 3 QUIET)
lpsim_require(nlohmann_json_FOUND "nlohmann-json" "nlohmann-json3-dev")

find_package(CLI11 QUIET)
lpsim_require(CLI11_FOUND "CLI11" "libcli11-dev")

find_package(fmt QUIET)
lpsim_require(fmt_FOUND "fmt" "libfmt-dev")

find_package(ZLIB QUIET)
lpsim_require(ZLIB_FOUND "zlib" "zlib1g-dev")

find_package(Threads REQUIRED)

# Optional: the ONNX reader (models/CMakeLists.txt). Debian's ONNXConfig.cmake
# names protobuf::libprotobuf without finding Protobuf, so Protobuf first.
set(LPSIM_ONNX_FOUND OFF)
if(LPSIM_ONNX)
  find_package(Protobuf QUIET)
  if(Protobuf_FOUND)
    find_package(ONNX CONFIG QUIET)
    if(ONNX_FOUND AND TARGET onnx AND TARGET onnx_proto)
      set(LPSIM_ONNX_FOUND ON)
    endif()
  endif()
endif()

if(LPSIM_BUILD_TESTS)
  find_package(Catch2 2 QUIET)
  lpsim_require(Catch2_FOUND "Catch2 v2" "catch2")
endif()
if(LPSIM_BUILD_BENCH)
  find_package(benchmark QUIET)
  lpsim_require(benchmark_FOUND "Google Benchmark" "libbenchmark-dev")
endif()

# Debian's SystemC 2.3.4 is built as C++17; C++20 translation units that include
# SystemC must claim C++17 or linking fails on sc_api_version_*.
function(lpsim_use_systemc target)
  target_link_libraries(${target} PUBLIC PkgConfig::SYSTEMC)
  target_compile_definitions(${target} PUBLIC SC_CPLUSPLUS=201703L)
endfunction()
