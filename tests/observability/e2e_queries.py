"""Asks a live Prometheus for every expression the dashboards and alerts use.

  e2e_queries.py --prometheus URL --start UNIX --end UNIX --rules RULES.yml \
      --expect-job JOB_ID DASHBOARD.json...

For each dashboard panel target (Grafana variables substituted: $job_id -> .+,
$__rate_interval -> 15s) the expression must be accepted by /api/v1/query and
must return at least one series with a finite value at some moment of the run
(/api/v1/query_range over [start, end] every second: the per-task series
exist only while the task runs, while the last-evaluation and checkpoint
series appear only at its end, so no single instant has them all).

Alert expressions are conditions, empty in a healthy run: the whole
expression must be accepted, and each operand (promql_exprs.condition_operands:
split at or/and/unless and comparisons, absent(X) -> X, literals dropped)
must return series over the run. The server must also have loaded every
alert rule with health "ok", none of them firing.

Template variables of the form label_values(selector, label) must list
--expect-job among their values for the run.
"""

import argparse
import json
import math
import os
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promql_exprs  # noqa: E402


class Prometheus:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def get(self, path, **params):
        query = urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen("%s%s?%s" % (self.url, path, query), timeout=30) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            body = json.load(e)
        if body.get("status") != "success":
            raise ValueError("%s: %s" % (body.get("errorType"), body.get("error")))
        return body["data"]


def finite_series(result):
    """Series in a query_range answer with at least one finite value."""
    return [s for s in result if any(math.isfinite(float(v)) for _, v in s["values"])]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--end", type=float, required=True)
    parser.add_argument("--rules", required=True)
    parser.add_argument("--expect-job", required=True)
    parser.add_argument("dashboards", nargs="+")
    args = parser.parse_args()
    prom = Prometheus(args.prometheus)
    window = dict(start=args.start, end=args.end, step=1)
    problems = []

    def check(label, expr, require_finite):
        try:
            prom.get("/api/v1/query", query=expr, time=args.end)
            result = prom.get("/api/v1/query_range", query=expr, **window)["result"]
        except ValueError as e:
            problems.append("%s: invalid: %s\n    %s" % (label, e, expr))
            return
        series = finite_series(result) if require_finite else result
        if not series:
            problems.append("%s: no series%s during the run\n    %s"
                            % (label, " with a finite value" if require_finite else "", expr))
        else:
            print("ok  %-70s %d series" % (label[:70], len(series)))

    panels = promql_exprs.dashboard_queries(args.dashboards)
    for label, expr in panels:
        check(label, promql_exprs.substitute(expr), require_finite=True)

    alerts = promql_exprs.alert_rules(args.rules)
    for name, expr in alerts:
        try:
            prom.get("/api/v1/query", query=expr, time=args.end)
        except ValueError as e:
            problems.append("alert %s: invalid: %s\n    %s" % (name, e, expr))
            continue
        for i, operand in enumerate(promql_exprs.condition_operands(expr)):
            check("alert %s operand %d" % (name, i + 1), operand, require_finite=False)

    loaded = {r["name"]: r for g in prom.get("/api/v1/rules")["groups"] for r in g["rules"]}
    for name, _ in alerts:
        rule = loaded.get(name)
        if rule is None:
            problems.append("alert %s: not loaded by the server" % name)
        elif rule.get("health") != "ok" or rule.get("lastError"):
            problems.append("alert %s: health %s %s" % (name, rule.get("health"), rule.get("lastError", "")))
    firing = prom.get("/api/v1/query_range", query='ALERTS{alertstate="firing"}', **window)["result"]
    for s in firing:
        problems.append("alert fired during a healthy run: %s" % s["metric"])

    for label, query in promql_exprs.template_queries(args.dashboards):
        parsed = promql_exprs.label_values_query(query)
        if parsed is None:
            problems.append("%s: unsupported variable query %r" % (label, query))
            continue
        selector, name = parsed
        values = prom.get("/api/v1/label/%s/values" % name, **{"match[]": selector},
                          start=args.start, end=args.end)
        if args.expect_job not in values:
            problems.append("%s: %s lists %s, not %s" % (label, query, values, args.expect_job))
        else:
            print("ok  %-70s %s" % (label, values))

    print("%d panel queries, %d alert rules checked" % (len(panels), len(alerts)))
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
