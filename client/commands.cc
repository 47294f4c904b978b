#include "client/commands.h"

#include <chrono>
#include <fstream>
#include <map>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "client/describe.h"
#include "client/progress_bar.h"
#include "client/spec_file.h"

namespace simclr::client {
namespace {

// Credentials on every call.
void Authorize(const CommandContext& ctx, grpc::ClientContext* rpc) {
  if (!ctx.authorization.empty()) rpc->AddMetadata("authorization", ctx.authorization);
}

// Credentials and a deadline. gRPC deadlines are absolute times on the real
// clock, so this reads the system clock rather than ctx.clock (which only
// feeds what is displayed).
void SetDeadline(const CommandContext& ctx, grpc::ClientContext* rpc) {
  Authorize(ctx, rpc);
  rpc->set_deadline(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(ctx.rpc_timeout));
}

// Calls the unary RPC `method` of the stub with credentials and a deadline.
template <typename Request, typename Response>
grpc::Status Call(const CommandContext& ctx,
                  grpc::Status (v1::JobService::StubInterface::*method)(grpc::ClientContext*,
                                                                       const Request&, Response*),
                  const Request& request, Response* response) {
  grpc::ClientContext rpc;
  SetDeadline(ctx, &rpc);
  return (ctx.stub->*method)(&rpc, request, response);
}

using Stub = v1::JobService::StubInterface;

std::string JobLabel(const v1::Job& job) {
  if (job.spec().name().empty()) return job.id();
  return absl::StrCat(job.spec().name(), " (", job.id(), ")");
}

bool IsFinal(v1::JobState state) {
  return state == v1::SUCCEEDED || state == v1::FAILED ||
         state == v1::CANCELLED;
}

}  // namespace

std::shared_ptr<grpc::Channel> CreateCoordinatorChannel(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials) {
  // Set on purpose: a list of every job may pass gRPC's 4 MiB default
  // (about a kilobyte a job); 64 MiB holds tens of thousands.
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, std::move(credentials), args);
}

int ReportRpcError(const CommandContext& ctx, absl::string_view what,
                   const grpc::Status& status) {
  const std::string message = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      *ctx.err << "error: " << what << ": cannot reach the coordinator at "
               << ctx.coordinator << " ("
               << (status.error_code() == grpc::StatusCode::UNAVAILABLE
                       ? "unavailable"
                       : "deadline exceeded")
               << (message.empty() ? "" : ": ") << message
               << "); expected a running coordinator at --coordinator="
                  "HOST:PORT or $SIMCLR_COORDINATOR\n";
      return kExitUnavailable;
    case grpc::StatusCode::NOT_FOUND:
      *ctx.err << "error: " << what << ": not found: " << message << "\n";
      return kExitFailed;
    case grpc::StatusCode::UNAUTHENTICATED:
      *ctx.err << "error: " << what << ": the coordinator at " << ctx.coordinator
               << " did not accept your credentials (" << message
               << "); expected --token-file=PATH or $SIMCLR_TOKEN_FILE with a valid token\n";
      return kExitUsage;
    case grpc::StatusCode::PERMISSION_DENIED:
      *ctx.err << "error: " << what << ": permission denied: " << message << "\n";
      return kExitUsage;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      *ctx.err << "error: " << what << ": rejected by the coordinator: "
               << message << "\n";
      return kExitUsage;
    default:
      *ctx.err << "error: " << what << ": coordinator at " << ctx.coordinator
               << " answered code " << static_cast<int>(status.error_code())
               << ": " << message << "\n";
      return kExitFailed;
  }
}

int SubmitFile(const CommandContext& ctx, const std::string& path,
               std::istream* stdin_stream) {
  std::stringstream text;
  if (path == "-") {
    text << stdin_stream->rdbuf();
  } else {
    std::ifstream file(path);
    if (!file) {
      *ctx.err << "error: -f " << path
               << ": cannot read the file; expected a readable YAML job-spec "
                  "file or - for stdin\n";
      return kExitUsage;
    }
    text << file.rdbuf();
    if (file.bad()) {
      *ctx.err << "error: -f " << path << ": read failed\n";
      return kExitUsage;
    }
  }
  return SubmitText(ctx, path == "-" ? "<stdin>" : path, text.str());
}

int SubmitText(const CommandContext& ctx, absl::string_view source,
               absl::string_view yaml_text) {
  absl::StatusOr<std::vector<v1::JobSpec>> specs = ParseJobSpecs(yaml_text);
  if (!specs.ok()) {
    *ctx.err << "error: " << source << ": " << specs.status().message()
             << "\n";
    return kExitUsage;
  }
  v1::SubmitJobsRequest request;
  for (v1::JobSpec& spec : *specs) *request.add_specs() = std::move(spec);
  v1::SubmitJobsResponse response;
  grpc::Status status = Call(ctx, &Stub::SubmitJobs, request, &response);
  if (!status.ok()) {
    return ReportRpcError(ctx, absl::StrCat("submit ", source), status);
  }
  for (const std::string& id : response.job_ids()) *ctx.out << id << "\n";
  return kExitOk;
}

namespace {

// One page of the query, after `page_token`.
grpc::Status ListPage(const CommandContext& ctx, const JobQuery& query,
                      const std::string& page_token, v1::ListJobsResponse* page) {
  v1::ListJobsRequest request;
  for (v1::JobState state : query.states) request.add_states(state);
  request.set_label_selector(query.label_selector);
  request.set_page_size(query.page_size);
  request.set_page_token(page_token);
  return Call(ctx, &Stub::ListJobs, request, page);
}

// Every page of the query (at most query.limit jobs) as one response.
grpc::Status ListAll(const CommandContext& ctx, const JobQuery& query,
                     v1::ListJobsResponse* all) {
  std::string token;
  do {
    v1::ListJobsResponse page;
    grpc::Status status = ListPage(ctx, query, token, &page);
    if (!status.ok()) return status;
    for (v1::Job& job : *page.mutable_jobs()) {
      if (query.limit > 0 && all->jobs_size() == query.limit) {
        all->set_next_page_token(page.next_page_token());
        return grpc::Status::OK;
      }
      *all->add_jobs() = std::move(job);
    }
    token = page.next_page_token();
  } while (!token.empty());
  return grpc::Status::OK;
}

// Blocks for `duration` on ctx.clock (a FakeClock in tests).
void Pause(const CommandContext& ctx, absl::Duration duration) {
  static const bool kNever = false;
  absl::Mutex mu;
  absl::MutexLock lock(&mu);
  ctx.clock->AwaitFor(mu, absl::Condition(&kNever), duration);
}

}  // namespace

int GetJobs(const CommandContext& ctx, const JobQuery& query, OutputFormat format) {
  v1::ListJobsResponse jobs;
  grpc::Status status = ListAll(ctx, query, &jobs);
  if (!status.ok()) return ReportRpcError(ctx, "get jobs", status);
  *ctx.out << FormatJobs(jobs, format, ctx.clock->Now());
  return kExitOk;
}

int WatchJobs(const CommandContext& ctx, const JobQuery& query, OutputFormat format,
              absl::Duration interval, int polls) {
  std::map<std::string, std::string> shown;  // job id -> what its printed row showed
  for (int round = 0; polls == 0 || round < polls; ++round) {
    if (round > 0) Pause(ctx, interval);
    v1::ListJobsResponse jobs;
    grpc::Status status = ListAll(ctx, query, &jobs);
    if (!status.ok()) return ReportRpcError(ctx, "get jobs --watch", status);
    const std::string table = FormatJobs(jobs, format, ctx.clock->Now());
    // Rows line up under the first header; later rows print when they change.
    std::vector<std::string> lines = absl::StrSplit(table, '\n', absl::SkipEmpty());
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i == 0) {
        if (round == 0) *ctx.out << lines[0] << "\n";
        continue;
      }
      // The age column changes every second: what changed is compared.
      const v1::Job& job = jobs.jobs(static_cast<int>(i - 1));
      const std::string key = absl::StrCat(JobStateName(job.state()), " ", job.progress().step(),
                                           " ", job.attempts(), " ", job.reason());
      auto [it, inserted] = shown.emplace(job.id(), key);
      if (inserted || it->second != key) {
        it->second = key;
        *ctx.out << lines[i] << "\n";
      }
    }
    ctx.out->flush();
  }
  return kExitOk;
}

int GetJob(const CommandContext& ctx, const std::string& job, OutputFormat format) {
  v1::GetJobRequest request;
  request.set_job(job);
  v1::Job response;
  grpc::Status status = Call(ctx, &Stub::GetJob, request, &response);
  if (!status.ok()) return ReportRpcError(ctx, absl::StrCat("get job ", job), status);
  *ctx.out << FormatJob(response, format, ctx.clock->Now());
  return kExitOk;
}

int GetJobMetrics(const CommandContext& ctx, const std::string& job, OutputFormat format) {
  v1::GetJobMetricsRequest request;
  request.set_job(job);
  v1::JobMetrics response;
  grpc::Status status = Call(ctx, &Stub::GetJobMetrics, request, &response);
  if (!status.ok()) return ReportRpcError(ctx, absl::StrCat("get job ", job, " --metrics"), status);
  *ctx.out << FormatJobMetrics(response, format);
  return kExitOk;
}

int Describe(const CommandContext& ctx, const std::string& job) {
  v1::GetJobRequest get;
  get.set_job(job);
  v1::Job found;
  grpc::Status status = Call(ctx, &Stub::GetJob, get, &found);
  if (!status.ok()) return ReportRpcError(ctx, absl::StrCat("describe job ", job), status);
  v1::ListJobEventsRequest list;
  list.set_job(found.id());
  v1::ListJobEventsResponse events;
  status = Call(ctx, &Stub::ListJobEvents, list, &events);
  if (!status.ok()) return ReportRpcError(ctx, absl::StrCat("describe job ", job), status);
  *ctx.out << FormatDescription(found, {events.events().begin(), events.events().end()},
                                ctx.clock->Now());
  return kExitOk;
}

int GetWorkers(const CommandContext& ctx, OutputFormat format) {
  v1::ListWorkersResponse response;
  grpc::Status status = Call(ctx, &Stub::ListWorkers, v1::ListWorkersRequest(), &response);
  if (!status.ok()) return ReportRpcError(ctx, "get workers", status);
  *ctx.out << FormatWorkers(response, format, ctx.clock->Now());
  return kExitOk;
}

int Cancel(const CommandContext& ctx, const std::string& job) {
  v1::CancelJobRequest request;
  request.set_job(job);
  v1::Job response;
  grpc::Status status = Call(ctx, &Stub::CancelJob, request, &response);
  if (!status.ok()) {
    return ReportRpcError(ctx, absl::StrCat("cancel ", job), status);
  }
  *ctx.out << "job " << JobLabel(response) << ": "
           << JobStateName(response.state()) << "\n";
  return kExitOk;
}

int Watch(const CommandContext& ctx, const std::string& job) {
  v1::WatchJobRequest request;
  request.set_job(job);
  grpc::ClientContext rpc;  // no deadline: a job may run for days
  Authorize(ctx, &rpc);
  std::unique_ptr<grpc::ClientReaderInterface<v1::Job>> reader =
      ctx.stub->WatchJob(&rpc, request);
  ProgressBar bar(*ctx.clock);
  v1::Job snapshot;
  bool seen = false;
  size_t drawn = 0;  // columns of the line on screen, to blank leftovers
  std::string last_plain;
  while (reader->Read(&snapshot)) {
    seen = true;
    bar.Observe(snapshot);
    if (ctx.interactive) {
      std::string line = bar.Render(ctx.terminal_width - 1);
      std::string pad(drawn > line.size() ? drawn - line.size() : 0, ' ');
      *ctx.out << '\r' << line << pad << std::flush;
      drawn = line.size();
    } else {
      std::string line = bar.PlainLine();
      if (line != last_plain) *ctx.out << line << "\n" << std::flush;
      last_plain = std::move(line);
    }
  }
  if (ctx.interactive && drawn > 0) *ctx.out << "\n";
  grpc::Status status = reader->Finish();
  if (!status.ok()) {
    return ReportRpcError(ctx, absl::StrCat("watch ", job), status);
  }
  if (!seen) {
    *ctx.err << "error: watch " << job
             << ": the coordinator ended the stream without a snapshot\n";
    return kExitFailed;
  }
  const v1::Job& last = bar.job();
  if (!IsFinal(last.state())) {
    *ctx.err << "error: watch " << job << ": the stream ended while the job "
             << "was " << JobStateName(last.state()) << "\n";
    return kExitFailed;
  }
  std::string summary =
      absl::StrCat("job ", JobLabel(last), " ", JobStateName(last.state()));
  if (!last.reason().empty()) absl::StrAppend(&summary, ": ", last.reason());
  for (const char* metric : {"top1", "top5"}) {
    auto it = last.metrics().find(metric);
    if (it != last.metrics().end()) {
      absl::StrAppend(&summary, absl::StrFormat(" %s=%.4f", metric, it->second));
    }
  }
  *ctx.out << summary << "\n";
  return last.state() == v1::SUCCEEDED ? kExitOk : kExitFailed;
}

int Logs(const CommandContext& ctx, const std::string& job, int rank, int attempt,
         bool follow) {
  v1::GetJobLogsRequest request;
  request.set_job(job);
  request.set_rank(rank);
  request.set_attempt(attempt);
  request.set_follow(follow);
  grpc::ClientContext rpc;  // no deadline when following: a job may run for days
  if (follow) {
    Authorize(ctx, &rpc);
  } else {
    SetDeadline(ctx, &rpc);
  }
  std::unique_ptr<grpc::ClientReaderInterface<v1::LogChunk>> reader =
      ctx.stub->GetJobLogs(&rpc, request);
  v1::LogChunk chunk;
  int shown_attempt = 0;
  while (reader->Read(&chunk)) {
    if (shown_attempt != 0 && chunk.attempt() != shown_attempt) {
      *ctx.out << "==> attempt " << chunk.attempt() << " <==\n";
    }
    shown_attempt = chunk.attempt();
    *ctx.out << chunk.data() << std::flush;
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return ReportRpcError(ctx, absl::StrCat("logs ", job), status);
  return kExitOk;
}

int Delete(const CommandContext& ctx, const std::string& job, bool cancel,
           absl::Duration stop_timeout) {
  v1::DeleteJobRequest request;
  request.set_job(job);
  request.set_cancel(cancel);
  const absl::Time give_up = ctx.clock->Now() + stop_timeout;
  while (true) {
    v1::DeleteJobResponse response;
    grpc::Status status = Call(ctx, &Stub::DeleteJob, request, &response);
    if (status.ok()) break;
    // A cancelled gang takes a heartbeat or two to stop: wait for it.
    const bool stopping = cancel && status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
                          absl::StrContains(status.error_message(), "still runs");
    if (!stopping || ctx.clock->Now() >= give_up) {
      return ReportRpcError(ctx, absl::StrCat("delete ", job), status);
    }
    Pause(ctx, absl::Seconds(1));
  }
  *ctx.out << "job " << job << " deleted\n";
  return kExitOk;
}

int Retry(const CommandContext& ctx, const std::string& job) {
  v1::GetJobRequest get;
  get.set_job(job);
  v1::Job found;
  if (grpc::Status status = Call(ctx, &Stub::GetJob, get, &found); !status.ok()) {
    return ReportRpcError(ctx, absl::StrCat("retry ", job), status);
  }
  if (!found.has_submitted_spec()) {
    *ctx.err << "error: retry " << job << ": job " << found.id()
             << " was stored without its submitted spec (by an older coordinator); "
                "expected a job submitted to this version, or submit its file again\n";
    return kExitUsage;
  }
  v1::JobSpec spec = found.submitted_spec();
  // The first free "<name>-retry-<n>", the name cut to keep 63 characters.
  const std::string base = spec.name().empty() ? found.id() : spec.name();
  for (int n = 1;; ++n) {
    const std::string suffix = absl::StrCat("-retry-", n);
    std::string name = base.substr(0, 63 - suffix.size());
    while (!name.empty() && name.back() == '-') name.pop_back();
    name += suffix;
    v1::GetJobRequest probe;
    probe.set_job(name);
    v1::Job existing;
    grpc::Status status = Call(ctx, &Stub::GetJob, probe, &existing);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
      spec.set_name(name);
      break;
    }
    if (!status.ok()) return ReportRpcError(ctx, absl::StrCat("retry ", job), status);
  }
  v1::SubmitJobsRequest request;
  *request.add_specs() = spec;
  v1::SubmitJobsResponse response;
  grpc::Status status = Call(ctx, &Stub::SubmitJobs, request, &response);
  if (!status.ok()) return ReportRpcError(ctx, absl::StrCat("retry ", job), status);
  for (const std::string& id : response.job_ids()) *ctx.out << id << " " << spec.name() << "\n";
  return kExitOk;
}

}  // namespace simclr::client
