#!/usr/bin/env python3
"""The one JSON summary of scripts/gpu-check: what was built, how the
pretrain -> finetune pipeline went on the device, and the step race.
Exits 1 when the pipeline's check failed (a job did not succeed, a loss was
not finite, top-1 missing).

    summarize.py --out DIR --device cuda --build_seconds N --wall_seconds N
                 --peak_tflops T
"""
import argparse
import json
import math
import os
import sys

# Forward + backward of ResNet-50 1x on one 224x224 view: 3 x 2 x 4.09 GMAC.
R50_GFLOP_PER_VIEW = 24.5


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def steps_of(job):
    """Rank 0's step logs of every attempt: <artifact_dir>/attempt-A/steps.jsonl."""
    steps = []
    for attempt in range(1, job.get("attempts", 0) + 1):
        path = os.path.join(job.get("artifact_dir", ""), "attempt-%d" % attempt, "steps.jsonl")
        try:
            with open(path, encoding="utf-8") as f:
                steps += [json.loads(line) for line in f if line.strip()]
        except OSError:
            pass
    return steps


def race_rows(out, peak_tflops):
    rows = load_json(os.path.join(out, "race", "summary.json")) or []
    for row in rows:
        r50 = row["depth"] == 50 and row["width"] == 1 and row["image_size"] == 224
        for impl in ("cpp", "pytorch", "pytorch_compile"):
            if impl in row and r50:
                views = 2 * row[impl]["median_images_per_s"]
                row[impl]["mfu"] = views * R50_GFLOP_PER_VIEW / (peak_tflops * 1000)
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--device", required=True)
    parser.add_argument("--build_seconds", type=int, default=0)
    parser.add_argument("--wall_seconds", type=int, default=0)
    parser.add_argument("--peak_tflops", type=float, default=989)
    args = parser.parse_args()

    pretrain = load_json(os.path.join(args.out, "pretrain.json")) or {}
    finetune = load_json(os.path.join(args.out, "finetune.json")) or {}
    steps = steps_of(pretrain)
    losses = [s["loss"] for s in steps]
    problems = []
    for name, job in (("pretrain", pretrain), ("finetune", finetune)):
        if job.get("state") != "SUCCEEDED":
            problems.append("%s is %s: %s" % (name, job.get("state"), job.get("reason", "")))
    if not losses or not all(math.isfinite(x) for x in losses):
        problems.append("pretraining losses are missing or not finite: %r" % losses[:5])
    top1 = finetune.get("metrics", {}).get("top1")
    if top1 is None:
        problems.append("finetune reported no top-1")
    with open(os.path.join(args.out, "workers.txt"), encoding="utf-8", errors="replace") as f:
        workers = f.read().strip()

    summary = {
        "device": args.device,
        "workers": workers,
        "build_seconds": args.build_seconds,
        "wall_seconds": args.wall_seconds,
        "pretrain": {
            "state": pretrain.get("state"),
            "steps": len(steps),
            "first_loss": losses[0] if losses else None,
            "last_loss": losses[-1] if losses else None,
            "images_per_second": steps[-1].get("images_per_second") if steps else None,
            "model": pretrain.get("spec", {}).get("model"),
            "batch_size": pretrain.get("spec", {}).get("train", {}).get("batch_size"),
        },
        "finetune": {"state": finetune.get("state"), "top1": top1},
        "race": race_rows(args.out, args.peak_tflops),
        "peak_tflops": args.peak_tflops,
        "ok": not problems,
        "problems": problems,
    }
    text = json.dumps(summary, indent=2)
    with open(os.path.join(args.out, "summary.json"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(text)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
