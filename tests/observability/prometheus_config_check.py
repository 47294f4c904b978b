"""Checks the Prometheus configs and alert rules with promtool.

  prometheus_config_check.py --local LOCAL.yml --k8s K8S.yml --rules RULES.yml --rules-test TEST.yml

- prometheus-local.yml: `promtool check config` on a copy with its file_sd
  target files present, accepted without warnings.
- prometheus-k8s.yml: Debian's Prometheus is built without Kubernetes service
  discovery, so its promtool rejects `kubernetes_sd_configs`. The file is
  checked as YAML for the pod-annotation contract, then `promtool check
  config` runs on a copy where each kubernetes_sd_configs list is replaced by
  a static target; everything else (relabelling, rule files) is checked as
  written.
- rules: `promtool check rules`, `promtool test rules`, and the unit tests
  cover every alert both firing and not firing.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

problems = []


def promtool(*args):
    result = subprocess.run(["promtool", *args], capture_output=True, text=True)
    out = result.stdout + result.stderr
    if result.returncode != 0:
        problems.append("promtool %s failed:\n%s" % (" ".join(args), out))
    return out


def check_local(local, rules, tmp):
    os.makedirs(os.path.join(tmp, "local", "rules"))
    os.makedirs(os.path.join(tmp, "local", "targets"))
    shutil.copy(local, os.path.join(tmp, "local", "prometheus.yml"))
    shutil.copy(rules, os.path.join(tmp, "local", "rules"))
    for name in ("coordinator.json", "workers.json"):
        with open(os.path.join(tmp, "local", "targets", name), "w") as f:
            f.write('[{"targets": ["127.0.0.1:9"]}]\n')
    out = promtool("check", "config", os.path.join(tmp, "local", "prometheus.yml"))
    if "WARNING" in out:
        problems.append("prometheus-local.yml: promtool warns:\n" + out)
    with open(local) as f:
        config = yaml.safe_load(f)
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    if set(jobs) != {"simclr-coordinator", "simclr-worker"}:
        problems.append("prometheus-local.yml: scrape jobs %s" % sorted(jobs))
    elif jobs["simclr-worker"].get("honor_labels"):
        problems.append("prometheus-local.yml: simclr-worker must not honor_labels (the target's `job` label must stay the scrape job; the SimCLR job id is `job_id`)")


def replace_k8s_sd(node):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "kubernetes_sd_configs":
                out["static_configs"] = [{"targets": ["pod.invalid:9090"]}]
            else:
                out[key] = replace_k8s_sd(value)
        return out
    if isinstance(node, list):
        return [replace_k8s_sd(v) for v in node]
    return node


def check_k8s(k8s, rules, tmp):
    with open(k8s) as f:
        config = yaml.safe_load(f)
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    if set(jobs) != {"simclr-coordinator", "simclr-worker"}:
        problems.append("prometheus-k8s.yml: scrape jobs %s" % sorted(jobs))
    for name, component in (("simclr-coordinator", "coordinator"), ("simclr-worker", "worker")):
        job = jobs.get(name, {})
        if [sd.get("role") for sd in job.get("kubernetes_sd_configs", [])] != ["pod"]:
            problems.append("prometheus-k8s.yml %s: expected kubernetes_sd_configs role pod" % name)
        relabel = job.get("relabel_configs", [])
        keeps = {tuple(r["source_labels"]): str(r["regex"]) for r in relabel if r.get("action") == "keep"}
        if keeps.get(("__meta_kubernetes_pod_annotation_prometheus_io_scrape",)) != "true":
            problems.append("%s: must keep only pods annotated prometheus.io/scrape: \"true\"" % name)
        if keeps.get(("__meta_kubernetes_pod_label_app_kubernetes_io_component",)) != component:
            problems.append("%s: must keep only app.kubernetes.io/component=%s" % (name, component))
        targets = {r.get("target_label") for r in relabel}
        if not {"__address__", "__metrics_path__"} <= targets:
            problems.append("%s: must honour prometheus.io/port and prometheus.io/path" % name)
    if jobs.get("simclr-worker", {}).get("honor_labels"):
        problems.append("prometheus-k8s.yml: simclr-worker must not honor_labels")

    derived = replace_k8s_sd(config)
    derived["rule_files"] = [os.path.abspath(rules)]
    path = os.path.join(tmp, "k8s-static.yml")
    with open(path, "w") as f:
        yaml.safe_dump(derived, f)
    promtool("check", "config", path)


def check_rules(rules, rules_test):
    promtool("check", "rules", rules)
    promtool("test", "rules", rules_test)
    with open(rules) as f:
        alerts = {r["alert"] for g in yaml.safe_load(f)["groups"] for r in g["rules"] if "alert" in r}
    with open(rules_test) as f:
        tests = yaml.safe_load(f)["tests"]
    fires, quiet = set(), set()
    for test in tests:
        for case in test.get("alert_rule_test", []):
            (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
    for alert in sorted(alerts):
        if alert not in fires:
            problems.append("%s: no unit test where it fires" % alert)
        if alert not in quiet:
            problems.append("%s: no unit test where it stays quiet" % alert)
    print("alert rules: %d, tested firing: %d, tested quiet: %d" % (len(alerts), len(fires & alerts), len(quiet & alerts)))


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--local", "--k8s", "--rules", "--rules-test"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    check_local(args.local, args.rules, tmp)
    check_k8s(args.k8s, args.rules, tmp)
    check_rules(args.rules, args.rules_test)
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
