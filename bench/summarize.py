#!/usr/bin/env python3
"""Summarises interleaved benchmark runs: reads the "RESULT {json}" lines that
bench/simclr_step_bench and bench/reference/simclr_step_pytorch.py print,
groups them by configuration, and prints per configuration the median over
rounds of each implementation's images/s and the ratio of C++ to each other
implementation (above 1: the C++ step is faster): ratio_cpp_over_pytorch
(eager) and, where it ran, ratio_cpp_over_pytorch_compile; and same_step,
whether the C++ and PyTorch first losses agree (both sides started from the
same weights and views: bench/run_cpu.sh passes --state_out / --state_in).

Usage: summarize.py RESULTS_FILE [--json OUT_FILE]
"""

import argparse
import json
import statistics
import sys

IMPLS = ("cpp", "pytorch", "pytorch_compile")
CONFIG_KEYS = ("device", "depth", "width", "image_size", "channels", "batch",
               "precision", "channels_last", "threads")


def load(path):
    runs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("RESULT "):
                runs.append(json.loads(line[len("RESULT "):]))
    return runs


def config_key(run):
    """The configuration a run measured; "cuda:0" and "cuda", 1 and 1.0 are
    the same (the C++ and Python sides print them differently)."""
    values = dict((k, run[k]) for k in CONFIG_KEYS)
    values["device"] = str(values["device"]).split(":")[0]
    values["width"] = float(values["width"])
    return tuple(values[k] for k in CONFIG_KEYS)


def summarize(runs):
    groups = {}
    for run in runs:
        key = config_key(run)
        groups.setdefault(key, {}).setdefault(run["impl"], []).append(run)
    rows = []
    for key, by_impl in groups.items():
        row = dict(zip(CONFIG_KEYS, key))
        for impl, impl_runs in by_impl.items():
            ips = [r["images_per_s"] for r in impl_runs]
            row[impl] = {
                "rounds": len(ips),
                "median_images_per_s": statistics.median(ips),
                "images_per_s": ips,
                "torch": impl_runs[0]["torch"],
            }
            first = [r["first_step_s"] for r in impl_runs
                     if r.get("first_step_s") is not None]
            if first:
                row[impl]["median_first_step_s"] = statistics.median(first)
        for other in by_impl:
            if other != "cpp" and "cpp" in by_impl:
                row["ratio_cpp_over_" + other] = (
                    row["cpp"]["median_images_per_s"] /
                    row[other]["median_images_per_s"])
        # The same step: from the same weights and views (--state_out /
        # --state_in) the first losses agree, to float rounding in fp32 and to
        # bfloat16's precision under autocast.
        first = {impl: impl_runs[0].get("first_loss") for impl, impl_runs in by_impl.items()}
        if "cpp" in first and "pytorch" in first and None not in first.values():
            tolerance = 1e-4 if row["precision"] == "fp32" else 2e-2
            row["first_loss"] = first
            row["same_step"] = abs(first["cpp"] - first["pytorch"]) <= tolerance * abs(first["cpp"])
        rows.append(row)
    return rows


def describe(row):
    return "%s ResNet-%d w%g %dx%dx%d batch %d %s%s threads %d" % (
        row["device"], row["depth"], row["width"], row["image_size"],
        row["image_size"], row["channels"], row["batch"], row["precision"],
        " channels_last" if row["channels_last"] else "", row["threads"])


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    rows = summarize(load(args.results))
    if not rows:
        print("summarize: no RESULT lines in " + args.results, file=sys.stderr)
        return 1
    for row in rows:
        print(describe(row))
        for impl in IMPLS:
            if impl in row:
                r = row[impl]
                print("  %-15s median %8.1f images/s over %d rounds %s" %
                      (impl, r["median_images_per_s"], r["rounds"],
                       [round(x, 1) for x in r["images_per_s"]]))
        for impl in IMPLS[1:]:
            if "ratio_cpp_over_" + impl in row:
                print("  C++/%s: %.3f" % (impl, row["ratio_cpp_over_" + impl]))
        if "same_step" in row:
            print("  first losses %s: %s" % (row["first_loss"],
                                             "the same step" if row["same_step"] else
                                             "DIFFERENT steps: the ratio compares unlike work"))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
