"""PromQL expressions used by the Grafana dashboards and the alert rules.

Shared by the static dashboard test and the end-to-end test, so both check
exactly what the deployed files contain:

  dashboard_queries(paths)   every panel target's expr (rows and nested panels)
  template_queries(paths)    the dashboards' template-variable queries
  alert_rules(path)          (alert name, expr) for every alerting rule
  substitute(expr)           Grafana variables replaced by concrete values
  condition_operands(expr)   what an alert condition is made of (see below)

An alert expression is a condition: in a healthy system it is legitimately
empty. condition_operands splits it at its top-level set operators (or, and,
unless) and comparisons (==, !=, >, <, >=, <=), drops vector-matching
modifiers and number literals, and replaces absent(X) by X. Each operand is a
measurement that must return series whenever the service runs; the full
expression must merely be valid.
"""

import json
import re

import yaml

# Grafana's built-in and dashboard variables -> values for a test query.
# `job_id` (and any other dashboard variable) matches everything: ".+".
GRAFANA_BUILTINS = {
    "__rate_interval": "15s",
    "__interval": "5s",
    "__range": "5m",
}


def _panels(panels):
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_queries(paths):
    """[(label, expr)] for every panel target in the dashboard JSON files."""
    out = []
    for path in paths:
        with open(path) as f:
            dashboard = json.load(f)
        for panel in _panels(dashboard.get("panels", [])):
            for target in panel.get("targets", []):
                if "expr" in target:
                    label = "%s / %s [%s]" % (dashboard["title"], panel["title"], target["refId"])
                    out.append((label, target["expr"]))
    return out


def template_queries(paths):
    """[(label, query)] for every query-type template variable."""
    out = []
    for path in paths:
        with open(path) as f:
            dashboard = json.load(f)
        for var in dashboard.get("templating", {}).get("list", []):
            if var.get("type") != "query":
                continue
            query = var.get("query")
            if isinstance(query, dict):
                query = query.get("query")
            out.append(("%s / $%s" % (dashboard["title"], var["name"]), query))
    return out


def alert_rules(path):
    """[(alert name, expr)] for every alerting rule in a rules file."""
    with open(path) as f:
        doc = yaml.safe_load(f)
    return [(rule["alert"], rule["expr"]) for group in doc["groups"]
            for rule in group["rules"] if "alert" in rule]


def substitute(expr):
    """Replaces $var, ${var} and [[var]] by a test value (".+" for dashboard variables)."""

    def value(name):
        return GRAFANA_BUILTINS.get(name, ".+")

    expr = re.sub(r"\$\{(\w+)(?::\w+)?\}", lambda m: value(m.group(1)), expr)
    expr = re.sub(r"\[\[(\w+)\]\]", lambda m: value(m.group(1)), expr)
    return re.sub(r"\$(\w+)", lambda m: value(m.group(1)), expr)


def label_values_query(query):
    """label_values(selector, label) -> (selector, label); None for other forms."""
    m = re.fullmatch(r"\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*", query)
    return (m.group(1), m.group(2)) if m else None


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?(Inf|NaN)", re.IGNORECASE)
_MODIFIER = re.compile(r"\s*(bool\b|(on|ignoring|group_left|group_right)\s*(\([^)]*\))?)\s*")
_COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")


def _split_top(expr, words=(), symbols=()):
    """Splits expr at depth-0 occurrences of the given keywords or symbols."""
    parts, depth, start, i, quote = [], 0, 0, 0, None
    while i < len(expr):
        c = expr[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 2
                continue
            if c == quote:
                quote = None
            i += 1
            continue
        if c in "\"'`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            for s in symbols:
                if expr.startswith(s, i):
                    parts.append(expr[start:i])
                    i += len(s)
                    start = i
                    break
            else:
                for w in words:
                    end = i + len(w)
                    if (expr.startswith(w, i) and (i == 0 or not (expr[i - 1].isalnum() or expr[i - 1] in "_:"))
                            and (end == len(expr) or not (expr[end].isalnum() or expr[end] in "_:"))):
                        parts.append(expr[start:i])
                        start = i = end
                        break
                else:
                    i += 1
                continue
            continue
        i += 1
    parts.append(expr[start:])
    return [p.strip() for p in parts]


def _strip_modifiers(operand):
    while True:
        m = _MODIFIER.match(operand)
        if not m or m.end() == 0:
            return operand.strip()
        operand = operand[m.end():]


def _wrapped(expr, prefix):
    """The inside of `prefix( ... )` when the parentheses span the whole expr."""
    if not expr.startswith(prefix + "(") or not expr.endswith(")"):
        return None
    inner = expr[len(prefix) + 1:-1]
    depth = 0
    for c in inner:  # the opening parenthesis must close at the very end
        depth += c == "("
        depth -= c == ")"
        if depth < 0:
            return None
    return inner.strip()


def condition_operands(expr):
    """The non-literal operands of an alert condition (see the module doc)."""
    expr = " ".join(expr.split())
    for splitter in (dict(words=("or",)), dict(words=("and", "unless")), dict(symbols=_COMPARISONS)):
        parts = _split_top(expr, **splitter)
        if len(parts) > 1:
            return [op for part in parts for op in condition_operands(_strip_modifiers(part))]
    for prefix in ("", "absent", "absent_over_time"):
        inner = _wrapped(expr, prefix)
        if inner is not None:
            return condition_operands(inner)
    if _NUMBER.fullmatch(expr):
        return []
    return [expr]
