"""Static checks of the Grafana dashboards and provisioning (no servers).

  dashboards_check.py --datasource PROVISIONING_YML --rules RULES_YML DASHBOARD.json...

Checks: the JSON is a dashboard Grafana can load (unique uid, unique panel
ids, panels inside the 24-column grid); every panel queries the provisioned
datasource uid and has at least one PromQL target; every $variable a query
uses is defined by the dashboard or built into Grafana; every metric family
the service exports is used by some panel or alert; docs/observability.md
documents every metric, alert and panel; and every PromQL
expression (dashboards after variable substitution, alert expressions and
their operands) parses, checked by `promtool check rules` on a generated file
of recording rules. Exits 1 listing every problem.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promql_exprs  # noqa: E402

# Every metric family the coordinator and workers export
# (coordinator/coordinator_metrics.cc, coordinator/rpc_metrics.cc,
# worker/worker_metrics.cc); histograms by their base name.
EXPORTED = [
    "simclr_coordinator_jobs", "simclr_coordinator_jobs_submitted_total",
    "simclr_coordinator_jobs_finished_total", "simclr_coordinator_attempt_failures_total",
    "simclr_coordinator_job_restarts_total", "simclr_coordinator_queue_wait_seconds",
    "simclr_coordinator_workers", "simclr_coordinator_worker_heartbeat_age_seconds",
    "simclr_coordinator_worker_heartbeat_age_max_seconds",
    "simclr_coordinator_rpcs_total", "simclr_coordinator_rpc_duration_seconds",
    "simclr_coordinator_unauthenticated_requests_total", "simclr_coordinator_stale_reports_total",
    "simclr_coordinator_unhealthy_workers", "simclr_coordinator_info",
    "simclr_coordinator_oldest_queued_job_age_seconds",
    "simclr_worker_step", "simclr_worker_total_steps", "simclr_worker_epoch", "simclr_worker_loss",
    "simclr_worker_learning_rate", "simclr_worker_images_per_second",
    "simclr_worker_step_phase_seconds", "simclr_worker_top1", "simclr_worker_top5",
    "simclr_worker_checkpoint_write_seconds", "simclr_worker_steps_total",
    "simclr_worker_tasks_running", "simclr_worker_trainer_resident_memory_bytes",
    "simclr_worker_info", "simclr_worker_tasks_finished_total",
    "simclr_worker_heartbeat_failures_total",
    "simclr_worker_last_heartbeat_success_timestamp_seconds",
    # common/process_metrics.cc, both daemons
    "process_cpu_seconds_total", "process_open_fds", "process_max_fds",
    "process_resident_memory_bytes",
]
BUILTIN_VARS = {"__rate_interval", "__interval", "__range", "__all"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasource", required=True)
    parser.add_argument("--rules", required=True)
    parser.add_argument("--docs", required=True, help="docs/observability.md")
    parser.add_argument("dashboards", nargs="+")
    args = parser.parse_args()
    problems = []

    with open(args.datasource) as f:
        uids = {ds["uid"] for ds in yaml.safe_load(f)["datasources"]}

    seen_uids = set()
    for path in args.dashboards:
        with open(path) as f:
            d = json.load(f)
        name = os.path.basename(path)
        if not d.get("uid") or d["uid"] in seen_uids:
            problems.append("%s: missing or duplicate uid %r" % (name, d.get("uid")))
        seen_uids.add(d.get("uid"))
        defined = {v["name"] for v in d.get("templating", {}).get("list", [])} | BUILTIN_VARS
        ids = set()
        for panel in promql_exprs._panels(d.get("panels", [])):
            where = "%s: panel %r" % (name, panel.get("title"))
            if panel.get("id") in ids:
                problems.append("%s: duplicate id %s" % (where, panel.get("id")))
            ids.add(panel.get("id"))
            grid = panel.get("gridPos", {})
            if not (0 <= grid.get("x", -1) and grid.get("x", 0) + grid.get("w", 0) <= 24 and grid.get("h", 0) > 0):
                problems.append("%s: gridPos %s outside the 24-column grid" % (where, grid))
            if panel.get("type") == "row":
                continue
            if panel.get("datasource", {}).get("uid") not in uids:
                problems.append("%s: datasource %s is not provisioned (%s)" % (where, panel.get("datasource"), sorted(uids)))
            targets = panel.get("targets", [])
            if not targets or not all(t.get("expr", "").strip() for t in targets):
                problems.append("%s: needs PromQL targets, has %s" % (where, targets))
            for t in targets:
                if t.get("datasource", {}).get("uid") not in uids:
                    problems.append("%s [%s]: target datasource is not provisioned" % (where, t.get("refId")))
                for var in re.findall(r"\$\{?(\w+)", t.get("expr", "")):
                    if var not in defined:
                        problems.append("%s: uses undefined variable $%s" % (where, var))
        if d["uid"] == "simclr-training" and "job_id" not in defined:
            problems.append("%s: the training dashboard needs a `job_id` variable" % name)

    panels = promql_exprs.dashboard_queries(args.dashboards)
    alerts = promql_exprs.alert_rules(args.rules)
    used = " ".join(e for _, e in panels) + " " + " ".join(e for _, e in alerts)
    for metric in EXPORTED:
        if not re.search(r"\b%s(_bucket|_sum|_count)?\b" % metric, used):
            problems.append("metric %s is used by no dashboard panel and no alert" % metric)

    # The reference documents every metric, alert and dashboard panel.
    with open(args.docs) as f:
        docs = f.read()
    for metric in EXPORTED:
        if "`%s`" % metric not in docs:
            problems.append("docs: metric %s is not documented" % metric)
    for name, _ in alerts:
        if "\n### %s\n" % name not in docs:
            problems.append("docs: alert %s has no '### %s' section (its runbook link)" % (name, name))
    for path in args.dashboards:
        with open(path) as f:
            d = json.load(f)
        for panel in promql_exprs._panels(d.get("panels", [])):
            if panel.get("type") != "row" and panel["title"] not in docs:
                problems.append("docs: panel %r of %s is not described" % (panel["title"], d["title"]))

    # PromQL syntax, checked by Prometheus's own parser.
    exprs = [promql_exprs.substitute(e) for _, e in panels]
    exprs += [e for _, e in alerts]
    exprs += [op for _, e in alerts for op in promql_exprs.condition_operands(e)]
    exprs += [promql_exprs.label_values_query(q)[0] for _, q in promql_exprs.template_queries(args.dashboards)
              if promql_exprs.label_values_query(q)]
    rules = {"groups": [{"name": "syntax", "rules": [
        {"record": "syntax:expr_%d" % i, "expr": e} for i, e in enumerate(exprs)]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yml", dir=os.environ.get("TEST_TMPDIR"), delete=False) as f:
        yaml.safe_dump(rules, f)
    result = subprocess.run(["promtool", "check", "rules", f.name], capture_output=True, text=True)
    if result.returncode != 0:
        problems.append("promtool rejects a PromQL expression:\n" + result.stdout + result.stderr)
    print("checked %d dashboards, %d panel queries, %d alert rules, %d expressions parsed"
          % (len(args.dashboards), len(panels), len(alerts), len(exprs)))

    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
