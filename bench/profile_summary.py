#!/usr/bin/env python3
"""Where a profiled training step went: tables a Chrome trace written by the
trainer (train.profile_step: <attempt dir>/profile-rank-<R>.json).

  bench/profile_summary.py TRACE [--top N] [--json]

Prints the step's span, the named phases (the trainer's forward, backward,
gradient_sync and optimizer; global_batch_norm and its backward; the waits in
c10d::allreduce and c10d::allgather) with their inclusive time, and the
operators with the most self time (their time minus that of the operators
they called), each as a share of the span. Nested phases overlap: the
collectives are inside global batch norm, which is inside forward or
backward.
"""
import argparse
import collections
import json
import sys

# Spans the project names (RECORD_USER_SCOPE); everything else is an operator.
PHASES = ("forward", "backward", "gradient_sync", "optimizer", "global_batch_norm",
          "global_batch_norm_backward", "c10d::allreduce", "c10d::allgather")


def summarize(trace):
    """{span_us, phases: {name: [us, count]}, self: {name: [us, count]}} of a
    trace: LibTorch's (a list of events) or torch.profiler's ({"traceEvents":
    [...]}). Self time assumes the events of a thread nest, as synchronous
    operators do; an asynchronous collective overlapping them is counted in
    the phases but can skew its neighbours' self time."""
    events = trace.get("traceEvents", []) if isinstance(trace, dict) else trace
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X":
            by_thread[e.get("tid")].append(e)
    start = min(e["ts"] for e in events if e.get("ph") == "X")
    end = max(e["ts"] + e["dur"] for e in events if e.get("ph") == "X")
    phases = collections.defaultdict(lambda: [0.0, 0])
    own = collections.defaultdict(lambda: [0.0, 0])
    for thread_events in by_thread.values():
        thread_events.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # [event, self time so far]
        for e in thread_events:
            while stack and stack[-1][0]["ts"] + stack[-1][0]["dur"] <= e["ts"]:
                finished, self_us = stack.pop()
                own[finished["name"]][0] += self_us
                own[finished["name"]][1] += 1
            if stack:
                stack[-1][1] -= e["dur"]
            stack.append([e, e["dur"]])
            if e["name"] in PHASES:
                phases[e["name"]][0] += e["dur"]
                phases[e["name"]][1] += 1
        for finished, self_us in stack:
            own[finished["name"]][0] += self_us
            own[finished["name"]][1] += 1
    for name in PHASES:  # a phase's own time is not an operator's
        own.pop(name, None)
    return {"span_us": end - start, "phases": dict(phases), "self": dict(own)}


def table(summary, top):
    span = summary["span_us"]
    lines = ["step span: %.1f ms" % (span / 1000),
             "%-44s %10s %7s %6s" % ("phase (inclusive)", "ms", "share", "count")]
    for name in PHASES:
        if name in summary["phases"]:
            us, count = summary["phases"][name]
            lines.append("%-44s %10.1f %6.1f%% %6d" % (name, us / 1000, 100 * us / span, count))
    lines.append("%-44s %10s %7s %6s" % ("operator (self time)", "ms", "share", "count"))
    ranked = sorted(summary["self"].items(), key=lambda item: -item[1][0])
    for name, (us, count) in ranked[:top]:
        lines.append("%-44s %10.1f %6.1f%% %6d" % (name[:44], us / 1000, 100 * us / span, count))
    return "\n".join(lines)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trace")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    with open(args.trace) as f:
        events = json.load(f)
    summary = summarize(events)
    print(json.dumps(summary) if args.json else table(summary, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
