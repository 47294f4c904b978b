# The Bazel-to-CMake mirror: runs cmake/bazel_mirror.py over the BUILD.bazel
# files of SIMCLR_MIRROR_ROOTS and turns each generated
# simclr_mirror_target() call into a CMake target.
#
# Naming: //model/nn:resnet becomes the target simclr_model_nn_resnet; a
# cc_binary keeps its Bazel name as the file name and lands in the folder of
# its package under the build tree (build/cmake/model/tools/simclr-model,
# build/cmake/bench/simclr_step_bench), as in bazel-bin.
#
# A target whose dependencies are not all available (an EXT:<x> that
# SimclrDependencies.cmake did not find, e.g. libjpeg on a machine without it,
# or a skipped library) is skipped, and so is everything that depends on it;
# the skips are listed at the end of the configure step. With
# -DSIMCLR_REQUIRE_ALL=ON a skip is an error instead.

include_guard(GLOBAL)

option(SIMCLR_REQUIRE_ALL "Fail when a mirrored target cannot be built" OFF)
set_property(GLOBAL PROPERTY SIMCLR_SKIPPED "")
set_property(GLOBAL PROPERTY SIMCLR_BUILT "")

function(_simclr_skip name label reason)
  set_property(GLOBAL APPEND PROPERTY SIMCLR_SKIPPED "${label}: ${reason}")
endfunction()

# Maps DEPS (mirror targets and EXT:<x>) onto CMake targets: sets
# <out_link> to the list, or <out_missing> to the first one not defined.
function(_simclr_resolve_deps out_link out_missing)
  set(link "")
  set(missing "")
  foreach(dep IN LISTS ARGN)
    if(dep MATCHES "^EXT:(.+)$")
      set(dep "simclr_ext_${CMAKE_MATCH_1}")
    endif()
    if(NOT TARGET ${dep})
      set(missing ${dep})
      break()
    endif()
    list(APPEND link ${dep})
  endforeach()
  set(${out_link} "${link}" PARENT_SCOPE)
  set(${out_missing} "${missing}" PARENT_SCOPE)
endfunction()

# simclr_mirror_proto(KIND messages|grpc NAME <cmake target> LABEL <bazel>
#                     PROTOS <workspace-relative .proto> ... DEPS ...)
# Runs protoc (and grpc_cpp_plugin for KIND grpc) at build time into
# <build>/gen, as //third_party:proto.bzl does under Bazel, and builds the
# generated code as a static library.
function(simclr_mirror_proto)
  cmake_parse_arguments(M "" "KIND;NAME;LABEL" "PROTOS;DEPS" ${ARGN})
  _simclr_resolve_deps(link missing ${M_DEPS})
  if(missing)
    _simclr_skip(${M_NAME} ${M_LABEL} "needs ${missing}")
    return()
  endif()
  if(NOT SIMCLR_PROTOC OR (M_KIND STREQUAL "grpc" AND NOT SIMCLR_GRPC_CPP_PLUGIN))
    _simclr_skip(${M_NAME} ${M_LABEL} "needs protoc and grpc_cpp_plugin")
    return()
  endif()
  set(gen "${CMAKE_BINARY_DIR}/gen")
  set(outputs "")
  set(inputs "")
  foreach(proto IN LISTS M_PROTOS)
    string(REGEX REPLACE "\\.proto$" "" base "${proto}")
    list(APPEND inputs "${SIMCLR_SOURCE_ROOT}/${proto}")
    if(M_KIND STREQUAL "grpc")
      list(APPEND outputs "${gen}/${base}.grpc.pb.cc" "${gen}/${base}.grpc.pb.h")
    else()
      list(APPEND outputs "${gen}/${base}.pb.cc" "${gen}/${base}.pb.h")
    endif()
  endforeach()
  if(M_KIND STREQUAL "grpc")
    set(plugin_args --grpc_out=${gen}
                    --plugin=protoc-gen-grpc=${SIMCLR_GRPC_CPP_PLUGIN})
  else()
    set(plugin_args --cpp_out=${gen})
  endif()
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${gen}
    COMMAND ${CMAKE_COMMAND} -E env "LD_LIBRARY_PATH=${SIMCLR_PROTOC_LIBRARY_PATH}"
            ${SIMCLR_PROTOC} --proto_path=${SIMCLR_SOURCE_ROOT} ${plugin_args}
            ${M_PROTOS}
    DEPENDS ${inputs}
    WORKING_DIRECTORY ${SIMCLR_SOURCE_ROOT}
    COMMENT "protoc ${M_LABEL}"
    VERBATIM)
  add_library(${M_NAME} STATIC ${outputs})
  target_include_directories(${M_NAME} PUBLIC "${gen}")
  target_link_libraries(${M_NAME} PUBLIC ${link})
  set_property(GLOBAL APPEND PROPERTY SIMCLR_BUILT "${M_LABEL}")
endfunction()

# simclr_mirror_target(KIND library|binary NAME <cmake target> LABEL <bazel>
#                      PACKAGE <dir> OUTPUT_NAME <name> SRCS ... HDRS ...
#                      DEPS ... LINKOPTS ... DEFINES ... COPTS ...)
function(simclr_mirror_target)
  cmake_parse_arguments(M "" "KIND;NAME;LABEL;PACKAGE;OUTPUT_NAME"
                        "SRCS;HDRS;DEPS;LINKOPTS;DEFINES;COPTS" ${ARGN})
  _simclr_resolve_deps(link missing ${M_DEPS})
  if(missing)
    _simclr_skip(${M_NAME} ${M_LABEL} "needs ${missing}")
    return()
  endif()
  set(raw_linkopts "")
  foreach(opt IN LISTS M_LINKOPTS)
    if(opt MATCHES "^-l(.+)$")
      if(NOT TARGET simclr_ext_lib_${CMAKE_MATCH_1})
        _simclr_skip(${M_NAME} ${M_LABEL} "needs lib${CMAKE_MATCH_1} (${opt})")
        return()
      endif()
      list(APPEND link simclr_ext_lib_${CMAKE_MATCH_1})
    else()
      list(APPEND raw_linkopts ${opt})
    endif()
  endforeach()

  set(compiled "")
  foreach(src IN LISTS M_SRCS)
    if(src MATCHES "\\.(cc|cpp|cxx|c)$")
      list(APPEND compiled ${src})
    endif()
  endforeach()

  if(M_KIND STREQUAL "binary")
    add_executable(${M_NAME} ${M_SRCS})
    set_target_properties(${M_NAME} PROPERTIES
      OUTPUT_NAME "${M_OUTPUT_NAME}"
      RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/${M_PACKAGE}")
    set(scope PRIVATE)
  elseif(compiled)
    add_library(${M_NAME} STATIC ${M_SRCS} ${M_HDRS})
    set(scope PUBLIC)
  else()
    add_library(${M_NAME} INTERFACE)
    set(scope INTERFACE)
  endif()
  target_include_directories(${M_NAME} ${scope} "${SIMCLR_SOURCE_ROOT}")
  target_link_libraries(${M_NAME} ${scope} ${link} ${raw_linkopts})
  if(M_DEFINES)
    target_compile_definitions(${M_NAME} ${scope} ${M_DEFINES})
  endif()
  if(M_COPTS AND NOT scope STREQUAL "INTERFACE")
    target_compile_options(${M_NAME} PRIVATE ${M_COPTS})
  endif()
  set_property(GLOBAL APPEND PROPERTY SIMCLR_BUILT "${M_LABEL}")
endfunction()

# Generates and includes the mirror of `roots` (Bazel package patterns).
function(simclr_mirror_bazel)
  find_package(Python3 COMPONENTS Interpreter REQUIRED)
  set(script "${SIMCLR_SOURCE_ROOT}/cmake/bazel_mirror.py")
  set(out "${CMAKE_BINARY_DIR}/bazel_mirror.cmake")
  execute_process(
    COMMAND "${Python3_EXECUTABLE}" "${script}" --workspace "${SIMCLR_SOURCE_ROOT}"
            --out "${out}" ${ARGN}
    RESULT_VARIABLE rc
    ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cmake/bazel_mirror.py failed:\n${err}")
  elseif(err)
    message(WARNING "${err}")
  endif()
  # Re-run the configure step when a BUILD file appears, changes or goes.
  set(build_files "")
  foreach(root IN LISTS ARGN)
    string(REGEX REPLACE "/\\.\\.\\.$" "" dir "${root}")
    file(GLOB_RECURSE found CONFIGURE_DEPENDS
         "${SIMCLR_SOURCE_ROOT}/${dir}/BUILD.bazel")
    list(APPEND build_files ${found})
  endforeach()
  set_property(DIRECTORY "${SIMCLR_SOURCE_ROOT}" APPEND PROPERTY
               CMAKE_CONFIGURE_DEPENDS ${script} ${build_files}
               "${SIMCLR_SOURCE_ROOT}/common/BUILD.bazel")
  include("${out}")

  get_property(built GLOBAL PROPERTY SIMCLR_BUILT)
  get_property(skipped GLOBAL PROPERTY SIMCLR_SKIPPED)
  list(LENGTH built n_built)
  message(STATUS "simclr: mirrored ${n_built} Bazel targets")
  if(skipped)
    string(REPLACE ";" "\n  " text "${skipped}")
    if(SIMCLR_REQUIRE_ALL)
      message(FATAL_ERROR "simclr: targets that cannot be built here:\n  ${text}")
    endif()
    message(WARNING "simclr: skipped (missing dependencies):\n  ${text}")
  endif()
endfunction()
