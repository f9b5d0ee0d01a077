# The direction of dependencies (DESIGN.md, docs/layout.md), enforced by the
# include path: a target compiles against a view of the source tree that holds
# only the folders it may use (symbolic links under build/include_views/), so
# `#include "sim/arch.h"` in power/ fails to compile. Library targets publish
# no include directory to their users; each user has its own view.
# tests/layout/include_direction.py proves it for every layer.
set(LPSIM_LAYERS core models traces trainer power sim study tools python)
set(LPSIM_USES_core core)
set(LPSIM_USES_models core models)
set(LPSIM_USES_traces core models traces)
set(LPSIM_USES_trainer core models traces trainer)
set(LPSIM_USES_power core power)
set(LPSIM_USES_sim core models traces power sim)
set(LPSIM_USES_study core models traces trainer power sim study)
set(LPSIM_USES_tools core models traces trainer power sim study tools)
set(LPSIM_USES_python core models traces trainer power sim study python)

set(LPSIM_INCLUDE_VIEWS ${CMAKE_BINARY_DIR}/include_views)
foreach(_layer ${LPSIM_LAYERS})
  set(_view ${LPSIM_INCLUDE_VIEWS}/${_layer})
  file(REMOVE_RECURSE ${_view})
  file(MAKE_DIRECTORY ${_view})
  foreach(_folder ${LPSIM_USES_${_layer}})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${_folder} ${_view}/${_folder} SYMBOLIC)
  endforeach()
endforeach()

# lpsim_layer(<target> <layer>): <target>'s sources see only what <layer> may use.
function(lpsim_layer target layer)
  if(NOT DEFINED LPSIM_USES_${layer})
    message(FATAL_ERROR "lpsim_layer: unknown layer '${layer}' (cmake/Layout.cmake)")
  endif()
  target_include_directories(${target} PRIVATE ${LPSIM_INCLUDE_VIEWS}/${layer})
endfunction()
