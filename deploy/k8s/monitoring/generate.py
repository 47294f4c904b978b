"""Writes prometheusrule.yaml and grafana-dashboards.yaml beside this file
from the repository's own alert rules and Grafana dashboards, which
kustomize cannot load from outside this directory:

    /usr/bin/python3 deploy/k8s/monitoring/generate.py

- prometheusrule.yaml: one PrometheusRule whose spec.groups are exactly the
  groups of deploy/prometheus/rules/simclr-alerts.yml.
- grafana-dashboards.yaml: one ConfigMap per deploy/grafana/dashboards/*.json,
  labelled grafana_dashboard: "1" for Grafana's dashboard sidecar, holding
  the file verbatim.

Both outputs are committed; tests/k8s/manifests_check.py fails when they
differ from a fresh generation. Needs PyYAML (Debian's python3-yaml).
"""
import glob
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
RULES = "deploy/prometheus/rules/simclr-alerts.yml"
DASHBOARDS = "deploy/grafana/dashboards"
COMMAND = "/usr/bin/python3 deploy/k8s/monitoring/generate.py"

LABELS = {
    "app.kubernetes.io/name": "simclr",
    "app.kubernetes.io/component": "monitoring",
    "app.kubernetes.io/part-of": "simclr",
}


class _Dumper(yaml.SafeDumper):
    """Block style for lists and literal (|) style for multi-line strings, so
    the JSON and PromQL inside read as they do in their own files."""


def _str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _dump(obj):
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=4096)


def _header(sources):
    return ("# GENERATED from %s by deploy/k8s/monitoring/generate.py: do not edit.\n"
            "# Edit the source, then run: %s\n" % (", ".join(sources), COMMAND))


def prometheus_rule(rules_path):
    """The PrometheusRule text for the rules file at `rules_path`."""
    with open(rules_path) as f:
        groups = yaml.safe_load(f)["groups"]
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "simclr-alerts", "labels": dict(LABELS)},
        "spec": {"groups": groups},
    }
    return _header([RULES]) + _dump(rule)


def _configmap_name(path):
    stem = os.path.splitext(os.path.basename(path))[0]
    return "simclr-dashboard-" + (stem[len("simclr-"):] if stem.startswith("simclr-") else stem)


def grafana_dashboards(dashboard_paths):
    """The ConfigMaps' text for the dashboard JSON files in `dashboard_paths`."""
    docs = []
    for path in sorted(dashboard_paths, key=os.path.basename):
        with open(path) as f:
            text = f.read()
        docs.append(_dump({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": _configmap_name(path),
                         "labels": dict(LABELS, grafana_dashboard="1")},
            "data": {os.path.basename(path): text},
        }))
    return _header([DASHBOARDS + "/*.json"]) + "---\n".join(docs)


def outputs(rules_path, dashboard_paths):
    """{file name beside this script: its text}."""
    return {
        "prometheusrule.yaml": prometheus_rule(rules_path),
        "grafana-dashboards.yaml": grafana_dashboards(dashboard_paths),
    }


def main():
    dashboards = glob.glob(os.path.join(ROOT, DASHBOARDS, "*.json"))
    if not dashboards:
        sys.exit("generate.py: no dashboards under %s" % os.path.join(ROOT, DASHBOARDS))
    for name, text in outputs(os.path.join(ROOT, RULES), dashboards).items():
        with open(os.path.join(HERE, name), "w") as f:
            f.write(text)
        print("wrote", os.path.join("deploy/k8s/monitoring", name))


if __name__ == "__main__":
    main()
