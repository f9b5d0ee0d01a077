# Warnings for lpsim's own targets only (never for third-party headers).
function(lpsim_warnings target)
  # -Wno-restrict: GCC 12 false positive on std::string concatenation at -O3 (GCC bug 105329).
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local -Wno-restrict)
  if(LPSIM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# One library target per folder: sources are the folder's *.cpp and impl/*.cpp.
function(lpsim_folder_library target)
  file(GLOB _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp
       ${CMAKE_CURRENT_SOURCE_DIR}/impl/*.cpp ${CMAKE_CURRENT_SOURCE_DIR}/*/impl/*.cpp)
  if(NOT _srcs)  # a folder whose sources are still to come
    file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/${target}_empty.cpp "")
    set(_srcs ${CMAKE_CURRENT_BINARY_DIR}/${target}_empty.cpp)
  endif()
  add_library(${target} STATIC ${_srcs})
  string(REGEX REPLACE "^lpsim_" "" _layer ${target})
  lpsim_layer(${target} ${_layer})  # cmake/Layout.cmake
  lpsim_warnings(${target})
endfunction()
