# The external libraries of the mirror build, as the targets that
# cmake/bazel_mirror.py names `EXT:<x>` (after //third_party:<x>):
#
#   simclr_ext_torch    any LibTorch found by find_package(Torch): Debian's
#                       1.13 (CPU) or a pip LibTorch 2.x with CUDA and NCCL
#   simclr_ext_abseil   Abseil from its CMake config (required)
#   simclr_ext_zlib     zlib
#   simclr_ext_jpeg, simclr_ext_png   libjpeg, libpng
#   simclr_ext_protobuf, simclr_ext_grpc, simclr_ext_grpc_reflection
#                       Protocol Buffers and gRPC (+ SIMCLR_PROTOC and
#                       SIMCLR_GRPC_CPP_PLUGIN, the code generators)
#   simclr_ext_prometheus, simclr_ext_sqlite, simclr_ext_yaml_cpp
#   simclr_ext_cli11    CLI11 (header-only; simclrctl's command line)
# and, for `linkopts = ["-l<x>"]`, simclr_ext_lib_<x> (jpeg, png, pthread).
# A dependency that is not found leaves its target undefined; the targets that
# need it are then skipped with a message (see SimclrMirror.cmake).

include_guard(GLOBAL)

# --- LibTorch ---------------------------------------------------------------
find_package(Torch QUIET)
if(NOT Torch_FOUND)
  message(FATAL_ERROR
    "LibTorch not found. Debian: apt-get install libtorch-dev (its config is "
    "in /usr/lib/x86_64-linux-gnu/cmake/Torch). A pip PyTorch carries one: "
    "pass -DCMAKE_PREFIX_PATH=\"$(python3 -c 'import torch;"
    "print(torch.utils.cmake_prefix_path)')\".")
endif()
message(STATUS "simclr: LibTorch ${Torch_VERSION} from ${Torch_DIR}")

add_library(simclr_ext_torch INTERFACE)
target_link_libraries(simclr_ext_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(simclr_ext_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})

# The imported torch targets carry LibTorch's own compile definitions
# (USE_DISTRIBUTED, USE_C10D_GLOO, and USE_C10D_NCCL where LibTorch was built
# with NCCL). Collect them to decide whether the NCCL code paths compile.
set(_simclr_torch_defs "")
foreach(_t torch torch_cpu torch_cuda torch_library torch_cpu_library
           torch_cuda_library)
  if(TARGET ${_t})
    get_target_property(_d ${_t} INTERFACE_COMPILE_DEFINITIONS)
    if(_d)
      list(APPEND _simclr_torch_defs ${_d})
    endif()
  endif()
endforeach()
string(FIND "${_simclr_torch_defs}" "USE_C10D_NCCL" _simclr_nccl_at)

set(SIMCLR_WITH_NCCL "AUTO" CACHE STRING
  "Build the NCCL code paths: AUTO (if LibTorch has USE_C10D_NCCL), ON, OFF")
set_property(CACHE SIMCLR_WITH_NCCL PROPERTY STRINGS AUTO ON OFF)
if(SIMCLR_WITH_NCCL STREQUAL "AUTO")
  if(_simclr_nccl_at GREATER -1)
    set(SIMCLR_NCCL_ENABLED ON)
  else()
    set(SIMCLR_NCCL_ENABLED OFF)
  endif()
else()
  set(SIMCLR_NCCL_ENABLED ${SIMCLR_WITH_NCCL})
endif()
if(SIMCLR_NCCL_ENABLED)
  if(NOT TARGET torch_cuda AND NOT TARGET torch_cuda_library)
    message(FATAL_ERROR
      "SIMCLR_WITH_NCCL=${SIMCLR_WITH_NCCL}, but this LibTorch has no CUDA "
      "library (torch_cuda)")
  endif()
  # c10d's NCCL header includes <nccl.h>. A pip LibTorch does not carry it in
  # its own include directories: it comes with the nvidia-nccl wheel beside
  # torch (site-packages/nvidia/nccl/include), or with the CUDA toolkit.
  find_path(SIMCLR_NCCL_INCLUDE_DIR nccl.h
    HINTS "${Torch_DIR}/../../../../nvidia/nccl/include" ENV NCCL_INCLUDE_DIR
          /usr/local/cuda/include)
  if(SIMCLR_NCCL_INCLUDE_DIR)
    target_include_directories(simclr_ext_torch SYSTEM INTERFACE
                               "${SIMCLR_NCCL_INCLUDE_DIR}")
  endif()
  message(STATUS "simclr: nccl.h in ${SIMCLR_NCCL_INCLUDE_DIR}")
  # USE_C10D_NCCL is what c10d's own headers and model/distributed test;
  # SIMCLR_WITH_NCCL names the choice in our code.
  target_compile_definitions(simclr_ext_torch INTERFACE USE_C10D_NCCL
                             SIMCLR_WITH_NCCL=1)
endif()
message(STATUS "simclr: NCCL code paths: ${SIMCLR_NCCL_ENABLED}")

# A LibTorch with CUDA: the trainer's device probe reads the GPU's name and
# memory through ATen's CUDA context (worker/trainer_main.cc).
if(TARGET torch_cuda OR TARGET torch_cuda_library)
  target_compile_definitions(simclr_ext_torch INTERFACE SIMCLR_WITH_CUDA=1)
  message(STATUS "simclr: CUDA code paths: ON")
endif()

# LibTorch built with the pre-C++11 string ABI (older pip wheels) cannot be
# mixed with libraries built with the new one, such as Debian's Abseil.
if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=0")
  message(WARNING
    "This LibTorch uses _GLIBCXX_USE_CXX11_ABI=0; Abseil must be built with "
    "the same ABI, or linking fails with undefined std::string symbols.")
endif()

# --- Abseil -----------------------------------------------------------------
find_package(absl CONFIG QUIET)
if(NOT absl_FOUND)
  message(FATAL_ERROR
    "Abseil not found (absl's CMake config). Every library under model/ uses "
    "absl::Status.\n"
    "  Debian/Ubuntu: apt-get install libabsl-dev\n"
    "  Without apt (e.g. a GPU machine with only a pip PyTorch): build a "
    "prefix from Debian's packages on a machine that has them,\n"
    "    scripts/make-deps-prefix build/gpu-deps --tar\n"
    "  (it copies the files of the installed packages), carry that folder "
    "(or its .tar.xz) along and pass\n"
    "    -DCMAKE_PREFIX_PATH=\"<torch prefix>;<folder>/usr\"\n"
    "  or -Dabsl_DIR=<folder>/usr/lib/x86_64-linux-gnu/cmake/absl.")
endif()
message(STATUS "simclr: Abseil ${absl_VERSION} from ${absl_DIR}")

# The components //third_party:abseil links (see WORKSPACE).
add_library(simclr_ext_abseil INTERFACE)
target_link_libraries(simclr_ext_abseil INTERFACE
  absl::flags absl::flags_parse absl::flat_hash_map absl::status absl::statusor absl::str_format
  absl::strings absl::synchronization absl::time absl::random_random
  absl::hash)

# --- zlib, libjpeg, libpng, threads ----------------------------------------
find_package(ZLIB QUIET)
if(ZLIB_FOUND)
  add_library(simclr_ext_zlib INTERFACE)
  target_link_libraries(simclr_ext_zlib INTERFACE ZLIB::ZLIB)
endif()

# //third_party:jpeg and :png, also reachable as linkopts -ljpeg / -lpng.
find_package(JPEG QUIET)
if(JPEG_FOUND)
  add_library(simclr_ext_jpeg INTERFACE)
  target_link_libraries(simclr_ext_jpeg INTERFACE JPEG::JPEG)
  add_library(simclr_ext_lib_jpeg ALIAS simclr_ext_jpeg)
endif()

find_package(PNG QUIET)
if(PNG_FOUND)
  add_library(simclr_ext_png INTERFACE)
  target_link_libraries(simclr_ext_png INTERFACE PNG::PNG)
  add_library(simclr_ext_lib_png ALIAS simclr_ext_png)
endif()

find_package(Threads REQUIRED)
add_library(simclr_ext_lib_pthread INTERFACE)
target_link_libraries(simclr_ext_lib_pthread INTERFACE Threads::Threads)

# --- Protocol Buffers, gRPC --------------------------------------------------
# Debian's protobuf has no CMake config: CMake's FindProtobuf looks in
# CMAKE_PREFIX_PATH (a carried prefix's usr/ too). The code generators run at
# build time; in a carried prefix they need its libraries on the loader path.
find_package(Protobuf QUIET)
if(Protobuf_FOUND)
  # By path, not through protobuf::libprotobuf: a pip LibTorch's CMake config
  # defines that target itself, empty (its protobuf is linked in statically),
  # and FindProtobuf then leaves it so.
  set(_simclr_protobuf_library "${Protobuf_LIBRARY_RELEASE}")
  if(NOT _simclr_protobuf_library)
    set(_simclr_protobuf_library "${Protobuf_LIBRARY}")
  endif()
  add_library(simclr_ext_protobuf INTERFACE)
  target_link_libraries(simclr_ext_protobuf INTERFACE "${_simclr_protobuf_library}"
                        Threads::Threads)
  target_include_directories(simclr_ext_protobuf SYSTEM INTERFACE "${Protobuf_INCLUDE_DIR}")
  set(SIMCLR_PROTOC "${Protobuf_PROTOC_EXECUTABLE}")
  get_filename_component(_simclr_protoc_lib "${Protobuf_LIBRARY}" DIRECTORY)
  set(SIMCLR_PROTOC_LIBRARY_PATH "${_simclr_protoc_lib}")
endif()

find_package(gRPC CONFIG QUIET)
if(gRPC_FOUND)
  add_library(simclr_ext_grpc INTERFACE)
  target_link_libraries(simclr_ext_grpc INTERFACE gRPC::grpc++)
  add_library(simclr_ext_grpc_reflection INTERFACE)
  target_link_libraries(simclr_ext_grpc_reflection INTERFACE gRPC::grpc++_reflection)
  if(TARGET gRPC::grpc_cpp_plugin)
    get_target_property(SIMCLR_GRPC_CPP_PLUGIN gRPC::grpc_cpp_plugin LOCATION)
  endif()
endif()
if(NOT SIMCLR_GRPC_CPP_PLUGIN)
  find_program(SIMCLR_GRPC_CPP_PLUGIN grpc_cpp_plugin)
endif()
message(STATUS "simclr: protoc ${SIMCLR_PROTOC}, grpc_cpp_plugin ${SIMCLR_GRPC_CPP_PLUGIN}")

# --- prometheus-cpp, SQLite, yaml-cpp ---------------------------------------
find_package(prometheus-cpp CONFIG QUIET)
if(prometheus-cpp_FOUND)
  add_library(simclr_ext_prometheus INTERFACE)
  target_link_libraries(simclr_ext_prometheus INTERFACE prometheus-cpp::pull
                        prometheus-cpp::core)
endif()

find_package(SQLite3 QUIET)
if(SQLite3_FOUND)
  add_library(simclr_ext_sqlite INTERFACE)
  target_link_libraries(simclr_ext_sqlite INTERFACE SQLite::SQLite3)
endif()

find_package(CLI11 CONFIG QUIET)
if(CLI11_FOUND)
  add_library(simclr_ext_cli11 INTERFACE)
  target_link_libraries(simclr_ext_cli11 INTERFACE CLI11::CLI11)
endif()

find_package(yaml-cpp CONFIG QUIET)
if(yaml-cpp_FOUND)
  add_library(simclr_ext_yaml_cpp INTERFACE)
  if(TARGET yaml-cpp::yaml-cpp)
    target_link_libraries(simclr_ext_yaml_cpp INTERFACE yaml-cpp::yaml-cpp)
  else()
    target_link_libraries(simclr_ext_yaml_cpp INTERFACE yaml-cpp)
  endif()
endif()
