# The layering check: overload policies (sim/policy/) and dispatchers (sim/serving/dispatch/)
# see an engine only as EngineView. This script fails when any of their files reaches, directly
# or through project headers it includes, a header they must not see: the engine itself
# (engine.hpp, with its event queue, links and ports) or serving_context.hpp. The build runs it
# (target kunsim_layering), so a policy that includes the engine does not build.
#
#   cmake -DSOURCE_DIR=<repo root> [-DROOTS="sim/policy;sim/serving/dispatch"] -DSTAMP=<file>
#         -P cmake/KunsimLayering.cmake
# ROOTS are folders relative to SOURCE_DIR whose .hpp/.cpp files are checked; project includes
# ("sim/...", "run/...", "traces/...") are resolved against SOURCE_DIR.
cmake_minimum_required(VERSION 3.20)
if(NOT DEFINED ROOTS)
  set(ROOTS "sim/policy;sim/serving/dispatch")
endif()
set(_forbidden "sim/serving/engine/engine.hpp;sim/serving/engine/serving_context.hpp")

set(_failures "")
foreach(root IN LISTS ROOTS)
  file(GLOB _files "${SOURCE_DIR}/${root}/*.hpp" "${SOURCE_DIR}/${root}/*.cpp")
  foreach(start IN LISTS _files)
    file(RELATIVE_PATH _start_rel "${SOURCE_DIR}" "${start}")
    # A walk over the project headers `start` reaches; `_via` remembers how each was reached.
    set(_todo "${_start_rel}")
    set(_seen "${_start_rel}")
    set(_via_${_start_rel} "${_start_rel}")
    while(_todo)
      list(POP_FRONT _todo current)
      if(NOT EXISTS "${SOURCE_DIR}/${current}")
        continue()
      endif()
      file(STRINGS "${SOURCE_DIR}/${current}" _includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"[^\"]+\"")
      foreach(line IN LISTS _includes)
        string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"([^\"]+)\".*" "\\1" inc "${line}")
        if(inc IN_LIST _seen)
          continue()
        endif()
        list(APPEND _seen "${inc}")
        set(_via_${inc} "${_via_${current}} -> ${inc}")
        if(inc IN_LIST _forbidden)
          list(APPEND _failures "${_via_${inc}}")
        else()
          list(APPEND _todo "${inc}")
        endif()
      endforeach()
    endwhile()
  endforeach()
endforeach()

if(_failures)
  list(JOIN _failures "\n  " _text)
  message(FATAL_ERROR "layering: policies and dispatchers see engines only as EngineView "
                      "(sim/serving/engine/engine_view.hpp), but:\n  ${_text}")
endif()
if(DEFINED STAMP)
  file(WRITE "${STAMP}" "ok\n")
endif()
