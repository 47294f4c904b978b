"""Turns the demo's finished jobs (simclrctl get jobs -o json on stdin) into
the results table and its JSON file.

Usage: results.py OUT.json < jobs.json
"""
import json
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
    by_name = {j["name"]: j for j in jobs}
    out = []
    for job in jobs:
        kind = job["kind"]
        if kind not in METHOD:
            continue
        spec = job["spec"]
        fraction = spec["data"].get("label_fraction")
        if kind == "distill":  # labels reach the student through its teacher
            fraction = by_name[spec["teacher"]]["spec"]["data"].get("label_fraction")
        method = METHOD[kind]
        if kind == "supervised" and "-tuned-" in job["name"]:
            method = "supervised_tuned"  # trained as a practitioner would (pipeline.py)
        out.append({
            "method": method,
            "label_fraction": fraction,
            "model": model_name(spec["model"]),
            "top1": job["metrics"].get("top1") if job["state"] == "SUCCEEDED" else None,
            "top5": job["metrics"].get("top5") if job["state"] == "SUCCEEDED" else None,
            "job": job["name"],
            "seed": spec["train"].get("seed"),
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


if __name__ == "__main__":
    jobs = json.load(sys.stdin)
    result = {"rows": rows(jobs)}
    with open(sys.argv[1], "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(table(result["rows"]))
