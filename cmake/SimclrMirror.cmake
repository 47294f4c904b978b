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

# simclr_mirror_target(KIND library|binary NAME <cmake target> LABEL <bazel>
#                      PACKAGE <dir> OUTPUT_NAME <name> SRCS ... HDRS ...
#                      DEPS ... LINKOPTS ... DEFINES ... COPTS ...)
function(simclr_mirror_target)
  cmake_parse_arguments(M "" "KIND;NAME;LABEL;PACKAGE;OUTPUT_NAME"
                        "SRCS;HDRS;DEPS;LINKOPTS;DEFINES;COPTS" ${ARGN})
  set(link "")
  foreach(dep IN LISTS M_DEPS)
    if(dep MATCHES "^EXT:(.+)$")
      set(dep "simclr_ext_${CMAKE_MATCH_1}")
    endif()
    if(NOT TARGET ${dep})
      _simclr_skip(${M_NAME} ${M_LABEL} "needs ${dep}")
      return()
    endif()
    list(APPEND link ${dep})
  endforeach()
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
