"""Turns the demo's finished jobs (simclrctl get jobs -o json on stdin: a
ListJobsResponse in protobuf's JSON mapping) into
the results table and its JSON file; for `scripts/demo --sweep`, the table by
width, with each encoder's parameter count from `simclr-model describe`.

Usage: results.py OUT.json [--describe SIMCLR_MODEL] < jobs.json
"""
import argparse
import json
import re
import subprocess
import sys

METHOD = {
    "supervised": "supervised",
    "finetune": "simclrv2_finetune",
    "distill": "simclrv2_distill",
    "linear_eval": "linear_eval",
}


def model_name(model):
    return "ResNet-%d w%g%s" % (model["depth"], model["width_multiplier"],
                                "+SK" if model.get("sk_ratio") else "")


def rows(jobs):
    by_name = {j["spec"]["name"]: j for j in jobs}
    out = []
    for job in jobs:
        kind = job["spec"]["kind"]
        if kind not in METHOD:
            continue
        spec = job["spec"]
        fraction = spec["data"].get("label_fraction")
        if kind == "distill":  # labels reach the student through its teacher
            fraction = by_name[spec["teacher"]]["spec"]["data"].get("label_fraction")
        method = METHOD[kind]
        if kind == "supervised" and "-tuned-" in job["spec"]["name"]:
            method = "supervised_tuned"  # trained as a practitioner would (pipeline.py)
        out.append({
            "method": method,
            "label_fraction": fraction,
            "model": model_name(spec["model"]),
            "top1": job["metrics"].get("top1") if job["state"] == "SUCCEEDED" else None,
            "top5": job["metrics"].get("top5") if job["state"] == "SUCCEEDED" else None,
            "job": spec["name"],
            "seed": int(spec["train"]["seed"]) if "seed" in spec["train"] else None,
            "state": job["state"],
        })
    order = {"supervised": 0, "supervised_tuned": 1, "linear_eval": 2, "simclrv2_finetune": 3,
             "simclrv2_distill": 4}
    out.sort(key=lambda r: (r["label_fraction"] or 0, order[r["method"]]))
    return out


def table(rs):
    lines = ["%-18s %8s  %-18s %7s" % ("method", "labels", "model", "top-1")]
    for r in rs:
        top1 = "%6.2f%%" % (100 * r["top1"]) if r["top1"] is not None else r["state"]
        labels = "%g%%" % (100 * r["label_fraction"]) if r["label_fraction"] else "-"
        lines.append("%-18s %8s  %-18s %7s" % (r["method"], labels, r["model"], top1))
    return "\n".join(lines)


def encoder_params(describe, model, image_size=28, channels=1):
    """The encoder's parameter count, as `simclr-model describe` counts it."""
    out = subprocess.run([describe, "describe", "--depth", str(model["depth"]),
                          "--width_multiplier", str(model["width_multiplier"]),
                          "--image_size", str(image_size), "--in_channels", str(channels),
                          "-o", "json"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["encoder_params"]


def sweep_rows(jobs, describe=None):
    """One row per width and label fraction: the fine-tuned and the tuned
    supervised top-1, and the gain."""
    by_name = {j["spec"]["name"]: j for j in jobs}
    out = []
    for job in jobs:
        # Names as pipeline.sweep_name writes them: sweep-w1-<n>-<part>.
        match = re.fullmatch(r"(sweep-w1-\d+)-finetune-(\d+)pct", job["spec"]["name"])
        if not match:
            continue
        prefix, pct = match.group(1), match.group(2)
        supervised = by_name.get("%s-supervised-tuned-%spct" % (prefix, pct))

        def top1(j):
            return j["metrics"].get("top1") if j and j["state"] == "SUCCEEDED" else None
        finetuned, baseline = top1(job), top1(supervised)
        model = by_name[prefix + "-pretrain"]["spec"]["model"]
        out.append({
            "width": model["width_multiplier"],
            "encoder_params": encoder_params(describe, model) if describe else None,
            "label_fraction": int(pct) / 100.0,
            "finetune_top1": finetuned,
            "supervised_top1": baseline,
            "gain": finetuned - baseline if None not in (finetuned, baseline) else None,
        })
    out.sort(key=lambda r: (r["label_fraction"], r["width"]))
    return out


def sweep_table(rs):
    def pct(x):
        return "%6.2f%%" % (100 * x) if x is not None else "-"
    lines = ["%6s %7s %10s %12s %12s %7s" % ("labels", "width", "encoder", "fine-tuned",
                                              "supervised", "gain")]
    for r in rs:
        gain = "%+6.2f" % (100 * r["gain"]) if r["gain"] is not None else "-"
        params = "%d" % r["encoder_params"] if r["encoder_params"] else "-"
        lines.append("%5g%% %7g %10s %12s %12s %7s" % (100 * r["label_fraction"], r["width"], params,
                                                     pct(r["finetune_top1"]),
                                                     pct(r["supervised_top1"]), gain))
    return "\n".join(lines)


def main(argv):
    parser = argparse.ArgumentParser(prog="results.py")
    parser.add_argument("out")
    parser.add_argument("--describe", help="the simclr-model binary (for --sweep's table)")
    args = parser.parse_args(argv[1:])
    jobs = json.load(sys.stdin).get("jobs", [])
    swept = any(j["spec"]["name"].startswith("sweep-") for j in jobs)
    result = {"rows": sweep_rows(jobs, args.describe) if swept else rows(jobs)}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(sweep_table(result["rows"]) if swept else table(result["rows"]))


if __name__ == "__main__":
    main(sys.argv)
