#include "client/commands.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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
  grpc::ClientContext rpc;
  SetDeadline(ctx, &rpc);
  grpc::Status status = ctx.stub->SubmitJobs(&rpc, request, &response);
  if (!status.ok()) {
    return ReportRpcError(ctx, absl::StrCat("submit ", source), status);
  }
  for (const std::string& id : response.job_ids()) *ctx.out << id << "\n";
  return kExitOk;
}

int GetJobs(const CommandContext& ctx, OutputFormat format) {
  v1::ListJobsResponse response;
  grpc::ClientContext rpc;
  SetDeadline(ctx, &rpc);
  grpc::Status status =
      ctx.stub->ListJobs(&rpc, v1::ListJobsRequest(), &response);
  if (!status.ok()) return ReportRpcError(ctx, "get jobs", status);
  std::vector<v1::Job> jobs(response.jobs().begin(), response.jobs().end());
  *ctx.out << FormatJobs(jobs, format, ctx.clock->Now());
  return kExitOk;
}

int GetJob(const CommandContext& ctx, const std::string& job,
           OutputFormat format) {
  v1::GetJobRequest request;
  request.set_job(job);
  v1::Job response;
  grpc::ClientContext rpc;
  SetDeadline(ctx, &rpc);
  grpc::Status status = ctx.stub->GetJob(&rpc, request, &response);
  if (!status.ok()) {
    return ReportRpcError(ctx, absl::StrCat("get job ", job), status);
  }
  *ctx.out << FormatJob(response, format, ctx.clock->Now());
  return kExitOk;
}

int Describe(const CommandContext& ctx, const std::string& job) {
  v1::GetJobRequest get;
  get.set_job(job);
  v1::Job found;
  grpc::ClientContext get_rpc;
  SetDeadline(ctx, &get_rpc);
  grpc::Status status = ctx.stub->GetJob(&get_rpc, get, &found);
  if (!status.ok()) return ReportRpcError(ctx, absl::StrCat("describe job ", job), status);
  v1::ListJobEventsRequest list;
  list.set_job(found.id());
  v1::ListJobEventsResponse events;
  grpc::ClientContext list_rpc;
  SetDeadline(ctx, &list_rpc);
  status = ctx.stub->ListJobEvents(&list_rpc, list, &events);
  if (!status.ok()) return ReportRpcError(ctx, absl::StrCat("describe job ", job), status);
  *ctx.out << FormatDescription(found, {events.events().begin(), events.events().end()},
                                ctx.clock->Now());
  return kExitOk;
}

int GetWorkers(const CommandContext& ctx, OutputFormat format) {
  v1::ListWorkersResponse response;
  grpc::ClientContext rpc;
  SetDeadline(ctx, &rpc);
  grpc::Status status =
      ctx.stub->ListWorkers(&rpc, v1::ListWorkersRequest(), &response);
  if (!status.ok()) return ReportRpcError(ctx, "get workers", status);
  std::vector<v1::Worker> workers(response.workers().begin(),
                                  response.workers().end());
  *ctx.out << FormatWorkers(workers, format, ctx.clock->Now());
  return kExitOk;
}

int Cancel(const CommandContext& ctx, const std::string& job) {
  v1::CancelJobRequest request;
  request.set_job(job);
  v1::Job response;
  grpc::ClientContext rpc;
  SetDeadline(ctx, &rpc);
  grpc::Status status = ctx.stub->CancelJob(&rpc, request, &response);
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

}  // namespace simclr::client
