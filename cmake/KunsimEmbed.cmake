# kunsim_embed(TARGET_SOURCES_VAR SYMBOL FILE): turns a data file into a C++ source that defines
# `extern const std::string_view SYMBOL;`, so shipped data (model catalogue, default scenario,
# workload profiles) is part of the binary and the default run needs no file on disk.
function(kunsim_embed out_var symbol file)
  get_filename_component(abs "${file}" ABSOLUTE)
  set(gen "${CMAKE_CURRENT_BINARY_DIR}/embed_${symbol}.cpp")
  file(READ "${abs}" content)
  string(FIND "${content}" ")KUNSIM_EMBED\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the embed delimiter")
  endif()
  file(CONFIGURE OUTPUT "${gen}.in" CONTENT
    "#include <string_view>\nnamespace kunsim::embedded {\nextern const std::string_view ${symbol};\nconst std::string_view ${symbol} = R\"KUNSIM_EMBED(@content@)KUNSIM_EMBED\";\n}\n" @ONLY)
  configure_file("${gen}.in" "${gen}" COPYONLY)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${abs}")
  set(${out_var} ${${out_var}} "${gen}" PARENT_SCOPE)
endfunction()
