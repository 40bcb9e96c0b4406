# nlohmann/json and CLI11 are header-only. Debian's packages provide CMake configs; a GPU machine
# without them can carry the headers instead, in KUNSIM_HEADER_DEPS (default: .deps/include, which
# git ignores; tools/carry-headers.sh fills it). Either way the targets below exist.
set(KUNSIM_HEADER_DEPS "${PROJECT_SOURCE_DIR}/.deps/include" CACHE PATH "Carried header-only dependencies")

# kunsim_header_dep(PACKAGE VERSION TARGET HEADER DEBIAN_PACKAGE)
macro(kunsim_header_dep package version target header debian)
  find_package(${package} ${version} QUIET)
  if(NOT TARGET ${target})
    if(NOT EXISTS "${KUNSIM_HEADER_DEPS}/${header}")
      message(FATAL_ERROR "${package} not found: install ${debian}, or carry its headers in ${KUNSIM_HEADER_DEPS}")
    endif()
    add_library(${target} INTERFACE IMPORTED)
    target_include_directories(${target} INTERFACE "${KUNSIM_HEADER_DEPS}")
  endif()
endmacro()

kunsim_header_dep(nlohmann_json 3.10 nlohmann_json::nlohmann_json nlohmann/json.hpp nlohmann-json3-dev)
kunsim_header_dep(CLI11 2.1 CLI11::CLI11 CLI/CLI.hpp libcli11-dev)
