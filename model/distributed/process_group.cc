#include "model/distributed/process_group.h"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>

#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/exception.h>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
// A pip LibTorch (2.11 seen) ships ProcessGroupGloo.hpp without the Gloo
// headers it includes: its Gloo backend cannot be constructed from C++, and
// such a build runs NCCL gangs only. Debian's LibTorch has both.
#if __has_include(<gloo/algorithm.h>)
#define SIMCLR_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#include <torch/version.h>
#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/loopback.h"
#include "common/status_macros.h"

namespace simclr::model {
namespace {

struct HostPort {
  std::string host;
  int port = 0;
};

absl::StatusOr<HostPort> ParseHostPort(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ProcessGroupOptions.master_address \"", address,
                     "\": expected host:port"));
  }
  absl::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:port
  }
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("ProcessGroupOptions.master_address \"", address,
                     "\": expected a port in [1, 65535]"));
  }
  return HostPort{std::string(host), port};
}

absl::Status Validate(const ProcessGroupOptions& options) {
  if (options.world_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("ProcessGroupOptions.world_size is ", options.world_size,
                     "; expected at least 1"));
  }
  if (options.rank < 0 || options.rank >= options.world_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ProcessGroupOptions.rank is ", options.rank, "; expected [0, ",
        options.world_size, ")"));
  }
  if (options.timeout <= absl::ZeroDuration() ||
      options.timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ProcessGroupOptions.timeout is ",
                     absl::FormatDuration(options.timeout),
                     "; expected a finite positive duration"));
  }
  if (options.backend != "gloo" && options.backend != "nccl") {
    return absl::InvalidArgumentError(
        absl::StrCat("ProcessGroupOptions.backend is \"", options.backend,
                     "\"; expected \"gloo\" or \"nccl\""));
  }
#ifndef USE_C10D_NCCL
  if (options.backend == "nccl") {
    return absl::UnimplementedError(
        "ProcessGroupOptions.backend is \"nccl\", but this build's LibTorch "
        "has no NCCL");
  }
#endif
#ifndef SIMCLR_HAVE_GLOO
  if (options.backend == "gloo") {
    return absl::UnimplementedError(
        "ProcessGroupOptions.backend is \"gloo\", but this build's LibTorch "
        "ships no Gloo headers (CPU gangs need one that does, e.g. Debian's)");
  }
#endif
  return absl::OkStatus();
}

// c10d reports timeouts as c10d::TimeoutError or as c10::Error whose text
// says so; anything else (refused connection, bad address) is Unavailable.
absl::Status FromException(const std::exception& e, absl::string_view what) {
  const std::string message = absl::StrCat(what, ": ", e.what());
  if (dynamic_cast<const c10d::TimeoutError*>(&e) != nullptr) {
    return absl::DeadlineExceededError(message);
  }
  const std::string lower = absl::AsciiStrToLower(e.what());
  if (absl::StrContains(lower, "timed out") ||
      absl::StrContains(lower, "timeout")) {
    return absl::DeadlineExceededError(message);
  }
  return absl::UnavailableError(message);
}

#if TORCH_VERSION_MAJOR >= 2
// NOTE [c10d backends in PyTorch 2.x]
// LibTorch 1.13 (Debian's) has ProcessGroupGloo/NCCL derive from
// c10d::ProcessGroup, so the backend is the group. From PyTorch 2.0 they
// derive from c10d::Backend, and a c10d::ProcessGroup dispatches each
// collective to the backend registered for the tensors' device type. The
// ProcessGroup constructor also changed within 2.x: up to about 2.5 it takes
// ProcessGroup::Options (whose backend name sets the default backend), later
// only (store, rank, size) followed by setDefaultBackend(). The two overloads
// below pick whichever the LibTorch at hand has.
template <typename Group>
auto NewGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
              const std::string& backend, std::chrono::milliseconds timeout,
              int /*preferred*/)
    -> decltype(c10::make_intrusive<Group>(
        store, rank, size,
        c10::make_intrusive<typename Group::Options>(backend, timeout))) {
  return c10::make_intrusive<Group>(
      store, rank, size,
      c10::make_intrusive<typename Group::Options>(backend, timeout));
}

template <typename Group>
c10::intrusive_ptr<Group> NewGroup(const c10::intrusive_ptr<c10d::Store>& store,
                                   int rank, int size,
                                   const std::string& backend,
                                   std::chrono::milliseconds /*timeout*/,
                                   long /*fallback*/) {
  auto group = c10::make_intrusive<Group>(store, rank, size);
  group->setDefaultBackend(Group::strToBackendType(backend));
  return group;
}

// A ProcessGroup whose collectives on `device` tensors run on `backend`.
c10::intrusive_ptr<c10d::ProcessGroup> WrapBackend(
    const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
    const std::string& name, c10d::ProcessGroup::BackendType type,
    c10::DeviceType device, c10::intrusive_ptr<c10d::Backend> backend,
    std::chrono::milliseconds timeout) {
  c10::intrusive_ptr<c10d::ProcessGroup> group =
      NewGroup<c10d::ProcessGroup>(store, rank, size, name, timeout, 0);
  group->setBackend(device, type, backend);
  return group;
}
#endif  // TORCH_VERSION_MAJOR >= 2

}  // namespace

absl::StatusOr<c10::intrusive_ptr<c10d::ProcessGroup>> CreateProcessGroup(
    const ProcessGroupOptions& options) {
  RETURN_IF_ERROR(Validate(options));
  const std::chrono::milliseconds timeout(
      absl::ToInt64Milliseconds(options.timeout));
  const std::string context =
      absl::StrCat("rank ", options.rank, " of ", options.world_size,
                   " joining ", options.backend, " group \"", options.prefix,
                   "\" at ", options.master_address);

  HostPort master;
  if (options.world_size > 1) {
    ASSIGN_OR_RETURN(master, ParseHostPort(options.master_address));
  }

  c10::intrusive_ptr<c10d::Store> store;
  try {
    if (options.world_size == 1) {
      store = c10::make_intrusive<c10d::HashStore>();
    } else {
      c10d::TCPStoreOptions store_options;
      store_options.port = static_cast<std::uint16_t>(master.port);
      store_options.isServer = options.rank == 0;
      store_options.numWorkers = options.world_size;
      store_options.waitWorkers = true;
      store_options.timeout = timeout;
      store = c10::make_intrusive<c10d::TCPStore>(master.host, store_options);
    }
    store->setTimeout(timeout);
  } catch (const std::exception& e) {
    return FromException(e, absl::StrCat(context, ": store"));
  }
  auto prefixed =
      c10::make_intrusive<c10d::PrefixStore>(options.prefix, store);

  try {
#ifdef SIMCLR_HAVE_GLOO
    if (options.backend == "gloo") {
      auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
      gloo_options->threads = 2;
      std::string local = options.local_address;
      if (local.empty() &&
          (options.world_size == 1 || IsLoopbackHost(master.host))) {
        local = "127.0.0.1";
      }
      gloo_options->devices.push_back(
          local.empty()
              ? c10d::ProcessGroupGloo::createDefaultDevice()
              : c10d::ProcessGroupGloo::createDeviceForHostname(local));
#if TORCH_VERSION_MAJOR >= 2
      return WrapBackend(prefixed, options.rank, options.world_size, "gloo",
                         c10d::ProcessGroup::BackendType::GLOO,
                         c10::DeviceType::CPU,
                         c10::make_intrusive<c10d::ProcessGroupGloo>(
                             prefixed, options.rank, options.world_size,
                             gloo_options),
                         timeout);
#else
      return c10::intrusive_ptr<c10d::ProcessGroup>(
          c10::make_intrusive<c10d::ProcessGroupGloo>(
              prefixed, options.rank, options.world_size, gloo_options));
#endif
    }
#endif  // SIMCLR_HAVE_GLOO
#ifdef USE_C10D_NCCL
    auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
    nccl_options->timeout = timeout;
#if TORCH_VERSION_MAJOR >= 2
    return WrapBackend(prefixed, options.rank, options.world_size, "nccl",
                       c10d::ProcessGroup::BackendType::NCCL,
                       c10::DeviceType::CUDA,
                       c10::make_intrusive<c10d::ProcessGroupNCCL>(
                           prefixed, options.rank, options.world_size,
                           nccl_options),
                       timeout);
#else
    return c10::intrusive_ptr<c10d::ProcessGroup>(
        c10::make_intrusive<c10d::ProcessGroupNCCL>(
            prefixed, options.rank, options.world_size, nccl_options));
#endif
#endif
  } catch (const std::exception& e) {
    return FromException(e, context);
  }
  return absl::InternalError(absl::StrCat(context, ": unhandled backend"));
}

}  // namespace simclr::model
