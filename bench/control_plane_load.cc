// Load on the coordinator's control plane: --workers simulated workers
// register and heartbeat every --heartbeat_interval while a client submits,
// gets, lists and watches jobs at --client_rps. Every call is timed here, in
// C++, so the latencies reported are the coordinator's and the network's, not
// a slow client's. Prints one JSON object:
//
//   {"workers": 10000, "seconds": 30, "heartbeat_interval_s": 2,
//    "registration_s": 3.1,        // until every worker had registered
//    "reregistered": 0,            // heartbeats told "reregister": falsely lost
//    "late_heartbeats": 0,         // heartbeats sent over half an interval late
//    "rpcs": {"Heartbeat": {"count": .., "errors": .., "p50_ms": .., "p99_ms": .., "max_ms": ..},
//             "RegisterWorker": {..}, "SubmitJobs": {..}, "GetJob": {..},
//             "ListJobs": {..}, "WatchJob": {..}},
//    "connections": {"Connect": {..}}}  // each thread's connection set-up, before
//                                        // its first timed call
//
// The jobs submitted ask for CUDA workers, which the simulated (CPU) workers
// are not, so they stay QUEUED: the scheduler sees a growing queue, and no
// simulated worker is handed a task it would never run.
//
// --worker_call=health_check is the baseline: the same callers at the same
// rate send gRPC's empty health check (grpc.health.v1.Health/Check, served by
// the same server) instead of registering and heartbeating, so that what a
// heartbeat costs the coordinator beyond any gRPC call can be read off.
//
// When every simulated worker has registered it writes "control_plane_load:
// registered" to stderr, so that a caller can measure the coordinator's steady
// state from then on.
//
//   control_plane_load --coordinator=127.0.0.1:50051 --workers=10000 --seconds=30
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/version.h"
#include "proto/simclr/v1/coordinator.grpc.pb.h"
#include "proto/simclr/v1/worker.grpc.pb.h"

ABSL_FLAG(std::string, coordinator, "127.0.0.1:50051", "the coordinator's gRPC address");
ABSL_FLAG(int, workers, 1000, "simulated workers");
ABSL_FLAG(int, threads, 16, "threads (and connections) the simulated workers share");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(2),
          "each worker's heartbeat interval (the coordinator's --heartbeat_interval)");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(30), "how long to measure, after registering");
ABSL_FLAG(double, client_rps, 20, "client calls per second, cycling submit, get, list, watch");
ABSL_FLAG(std::string, worker_call, "heartbeat",
          "what each simulated worker sends every interval: heartbeat (after registering), or "
          "health_check (the baseline: an empty gRPC call, no registration)");

namespace simclr::bench {
namespace {

using Clock = std::chrono::steady_clock;

// What each simulated worker sends every interval (--worker_call).
enum class WorkerCall {
  kHeartbeat,    // RegisterWorker once, then Heartbeat
  kHealthCheck,  // the baseline: grpc.health.v1.Health/Check, no registration
};

// Durations of one RPC method, in milliseconds. Thread-safe.
class Latencies {
 public:
  void Add(const std::string& method, double ms, bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    Samples& s = samples_[method];
    s.ms.push_back(ms);
    if (!ok) ++s.errors;
  }

  std::string Json() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> parts;
    for (auto& [method, s] : samples_) {
      std::sort(s.ms.begin(), s.ms.end());
      auto at = [&s](double q) {
        return s.ms.empty() ? 0.0 : s.ms[std::min(s.ms.size() - 1, size_t(q * s.ms.size()))];
      };
      parts.push_back(absl::StrFormat(
          "\"%s\": {\"count\": %d, \"errors\": %d, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
          "\"max_ms\": %.3f}",
          method, s.ms.size(), s.errors, at(0.5), at(0.99), s.ms.empty() ? 0.0 : s.ms.back()));
    }
    return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
  }

 private:
  struct Samples {
    std::vector<double> ms;
    int64_t errors = 0;
  };
  std::mutex mu_;
  std::map<std::string, Samples> samples_;
};

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// A connection of its own (as separate workers would have), established
// before any call on it is timed: its set-up (TCP and HTTP/2 handshakes) goes
// into `connects`, so that the first call's latency is the coordinator's
// answer and not the handshake. Null if it did not connect within 30 s.
std::shared_ptr<grpc::Channel> Connect(const std::string& address, Latencies& connects) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  const Clock::time_point start = Clock::now();
  const bool connected =
      channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30));
  connects.Add("Connect", MillisSince(start), connected);
  return connected ? channel : nullptr;
}

struct SimulatedWorker {
  std::string id;
  uint64_t incarnation = 0;
  Clock::time_point next_beat;
};

struct WorkerCounts {
  std::atomic<int64_t> reregistered{0};
  std::atomic<int64_t> late{0};
};

bool Register(v1::WorkerService::Stub& stub, int index, SimulatedWorker& worker,
              Latencies& latencies) {
  v1::RegisterWorkerRequest request;
  request.set_hostname(absl::StrCat("sim-", index));
  request.set_device_kind("cpu");
  request.set_device_count(1);
  request.set_collective_address(absl::StrCat("10.0.", index / 250, ".", index % 250, ":29500"));
  request.set_protocol_version(kWorkerProtocolVersion);
  v1::RegisterWorkerResponse response;
  grpc::ClientContext rpc;
  rpc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const Clock::time_point start = Clock::now();
  const grpc::Status status = stub.RegisterWorker(&rpc, request, &response);
  latencies.Add("RegisterWorker", MillisSince(start), status.ok());
  if (!status.ok()) return false;
  worker.id = response.worker_id();
  worker.incarnation = response.coordinator_incarnation();
  return true;
}

// One empty health check (the baseline's call), blocking.
grpc::Status HealthCheck(grpc::GenericStub& stub, grpc::CompletionQueue& cq) {
  grpc::ClientContext rpc;
  rpc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  // HealthCheckRequest{service: ""} encodes as no bytes: one empty slice.
  grpc::Slice no_bytes;
  const grpc::ByteBuffer request(&no_bytes, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  auto call = stub.PrepareUnaryCall(&rpc, "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  call->Finish(&response, &status, &status);
  void* tag = nullptr;
  bool ok = false;
  if (!cq.Next(&tag, &ok) || tag != &status || !ok) return grpc::Status(grpc::INTERNAL, "cq");
  return status;
}

// Registers its share of workers and counts `registering` down, then
// heartbeats each on its schedule until `end` (or, for kHealthCheck, sends the
// baseline's call on the same schedule without registering). Calls are spread
// over the interval so that load is even.
void RunWorkers(const std::string& address, int thread, int threads, int total,
                absl::Duration interval, WorkerCall call, Clock::time_point end,
                absl::BlockingCounter& registering, Latencies& latencies, Latencies& connects,
                WorkerCounts& counts) {
  const bool health_check = call == WorkerCall::kHealthCheck;
  const std::shared_ptr<grpc::Channel> channel = Connect(address, connects);
  if (channel == nullptr) {
    registering.DecrementCount();
    return;
  }
  auto stub = v1::WorkerService::NewStub(channel);
  grpc::GenericStub generic(channel);
  grpc::CompletionQueue cq;
  const auto period = absl::ToChronoNanoseconds(interval);
  std::vector<SimulatedWorker> workers;
  std::vector<int> indices;
  for (int i = thread; i < total; i += threads) indices.push_back(i);
  const Clock::time_point first = Clock::now() + period;
  for (size_t k = 0; k < indices.size(); ++k) {
    SimulatedWorker worker;
    if (!health_check && !Register(*stub, indices[k], worker, latencies)) continue;
    worker.next_beat = first + period * k / std::max<size_t>(1, indices.size());
    workers.push_back(std::move(worker));
  }
  registering.DecrementCount();
  size_t next = 0;
  while (!workers.empty()) {
    SimulatedWorker& worker = workers[next];
    next = (next + 1) % workers.size();
    if (worker.next_beat > end) break;
    std::this_thread::sleep_until(worker.next_beat);
    if (Clock::now() - worker.next_beat > period / 2) ++counts.late;
    worker.next_beat += period;
    const Clock::time_point start = Clock::now();
    if (health_check) {
      const grpc::Status status = HealthCheck(generic, cq);
      latencies.Add("HealthCheck", MillisSince(start), status.ok());
      continue;
    }
    v1::HeartbeatRequest request;
    request.set_worker_id(worker.id);
    request.set_coordinator_incarnation(worker.incarnation);
    v1::HeartbeatResponse response;
    grpc::ClientContext rpc;
    rpc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const grpc::Status status = stub->Heartbeat(&rpc, request, &response);
    latencies.Add("Heartbeat", MillisSince(start), status.ok());
    if (status.ok() && response.reregister()) {
      ++counts.reregistered;
      Register(*stub, 0, worker, latencies);
    }
  }
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

// Cycles SubmitJobs, GetJob, ListJobs (one page of 100) and WatchJob (until
// its first snapshot) at `rps` calls per second until `end`.
void RunClient(const std::string& address, double rps, Clock::time_point end,
               Latencies& latencies, Latencies& connects) {
  if (rps <= 0) return;
  const std::shared_ptr<grpc::Channel> channel = Connect(address, connects);
  if (channel == nullptr) return;
  auto stub = v1::JobService::NewStub(channel);
  const auto gap = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1 / rps));
  std::vector<std::string> ids;
  Clock::time_point due = Clock::now();
  for (int64_t call = 0; due < end; ++call, due += gap) {
    std::this_thread::sleep_until(due);
    grpc::ClientContext rpc;
    rpc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const Clock::time_point start = Clock::now();
    grpc::Status status;
    std::string method;
    switch (ids.empty() ? 0 : call % 4) {
      case 0: {
        method = "SubmitJobs";
        v1::SubmitJobsRequest request;
        v1::JobSpec& spec = *request.add_specs();
        spec.set_name(absl::StrCat("load-", call));
        spec.set_kind("pretrain");
        spec.set_device("cuda");  // no simulated worker can take it: it stays QUEUED
        spec.mutable_data()->set_dataset("fashion-mnist");
        v1::SubmitJobsResponse response;
        status = stub->SubmitJobs(&rpc, request, &response);
        if (status.ok()) ids.push_back(response.job_ids(0));
        break;
      }
      case 1: {
        method = "GetJob";
        v1::GetJobRequest request;
        request.set_job(ids[call % ids.size()]);
        v1::Job response;
        status = stub->GetJob(&rpc, request, &response);
        break;
      }
      case 2: {
        method = "ListJobs";
        v1::ListJobsRequest request;
        request.set_page_size(100);
        v1::ListJobsResponse response;
        status = stub->ListJobs(&rpc, request, &response);
        break;
      }
      default: {
        method = "WatchJob";
        v1::WatchJobRequest request;
        request.set_job(ids[call % ids.size()]);
        auto reader = stub->WatchJob(&rpc, request);
        v1::Job snapshot;
        const bool read = reader->Read(&snapshot);
        latencies.Add(method, MillisSince(start), read);
        rpc.TryCancel();
        reader->Finish().IgnoreError();
        continue;
      }
    }
    latencies.Add(method, MillisSince(start), status.ok());
  }
}

int Main() {
  const std::string address = absl::GetFlag(FLAGS_coordinator);
  const int total = absl::GetFlag(FLAGS_workers);
  const int threads = std::max(1, std::min(absl::GetFlag(FLAGS_threads), total));
  const absl::Duration interval = absl::GetFlag(FLAGS_heartbeat_interval);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  const std::string worker_call = absl::GetFlag(FLAGS_worker_call);
  WorkerCall call;
  if (worker_call == "heartbeat") {
    call = WorkerCall::kHeartbeat;
  } else if (worker_call == "health_check") {
    call = WorkerCall::kHealthCheck;
  } else {
    std::fprintf(stderr, "control_plane_load: --worker_call: got \"%s\", expected heartbeat or "
                 "health_check\n", worker_call.c_str());
    return 2;
  }
  Latencies latencies;
  Latencies connects;
  WorkerCounts counts;
  // Registration takes its own time: the measured window starts after it
  // (two intervals in), so that every worker heartbeats in all of it.
  const Clock::time_point start = Clock::now();
  const Clock::time_point end = start + absl::ToChronoNanoseconds(2 * interval + duration);
  absl::BlockingCounter registering(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back(RunWorkers, address, t, threads, total, interval, call, end,
                      std::ref(registering), std::ref(latencies), std::ref(connects),
                      std::ref(counts));
  }
  pool.emplace_back(RunClient, address, absl::GetFlag(FLAGS_client_rps), end,
                    std::ref(latencies), std::ref(connects));
  registering.Wait();
  const double registration_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::fprintf(stderr, "control_plane_load: registered\n");
  std::fflush(stderr);
  for (std::thread& t : pool) t.join();
  std::printf(
      "{\"workers\": %d, \"seconds\": %.1f, \"heartbeat_interval_s\": %.3f, "
      "\"registration_s\": %.3f, \"reregistered\": %lld, \"late_heartbeats\": %lld, "
      "\"rpcs\": %s, \"connections\": %s}\n",
      total, absl::ToDoubleSeconds(duration), absl::ToDoubleSeconds(interval), registration_s,
      static_cast<long long>(counts.reregistered.load()),
      static_cast<long long>(counts.late.load()), latencies.Json().c_str(),
      connects.Json().c_str());
  return 0;
}

}  // namespace
}  // namespace simclr::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return simclr::bench::Main();
}
