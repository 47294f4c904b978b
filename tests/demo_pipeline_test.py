"""The demo's job files and results table (scripts/demo_lib), checked against
the real coordinator and simclrctl.

Every mode's pipeline is accepted as a whole by a real coordinator (so a typo
in a field, a bad value or a broken parent reference fails here, not an hour
into `scripts/demo --full`), runs the jobs the issue asks for with the seed it
was given, and turns into the results rows the README documents.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from cluster import Cluster, runfile

sys.path.insert(0, os.path.dirname(runfile("scripts/demo_lib/pipeline.py")))
import pipeline  # noqa: E402
import results  # noqa: E402

EXPECTED_JOBS = {
    # name: (kind, parent or teacher, label_fraction)
    "demo-pretrain": ("pretrain", None, None),
    "demo-finetune-1pct": ("finetune", "demo-pretrain", 0.01),
    "demo-finetune-10pct": ("finetune", "demo-pretrain", 0.1),
    "demo-linear-eval": ("linear_eval", "demo-pretrain", 1.0),
    "demo-distill": ("distill", "demo-finetune-10pct", None),
    "demo-supervised-1pct": ("supervised", None, 0.01),
    "demo-supervised-10pct": ("supervised", None, 0.1),
    "demo-supervised-100pct": ("supervised", None, 1.0),
    "demo-supervised-tuned-1pct": ("supervised", None, 0.01),
    "demo-supervised-tuned-10pct": ("supervised", None, 0.1),
}
# --full also self-distils the 1% model into the teacher's own network.
EXPECTED_FULL_JOBS = dict(EXPECTED_JOBS, **{
    "demo-self-distill-1pct": ("distill", "demo-finetune-1pct", None),
})


def expected_jobs(mode):
    return EXPECTED_FULL_JOBS if mode == "full" else EXPECTED_JOBS


def submitted_jobs(mode, seed):
    """Submits the mode's pipeline to a fresh coordinator; returns its jobs."""
    with Cluster(workers=0) as c:
        ids = c.submit(pipeline.pipeline(mode, seed))
        jobs = c.get("jobs")
    assert len(ids) == len(expected_jobs(mode)), ids
    return jobs


class DemoPipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.jobs = {mode: submitted_jobs(mode, 7) for mode in pipeline.MODES}

    def test_every_mode_submits_the_papers_pipeline(self):
        for mode, jobs in self.jobs.items():
            by_name = {j["spec"]["name"]: j for j in jobs}
            self.assertEqual(set(by_name), set(expected_jobs(mode)), mode)
            for name, (kind, parent, fraction) in expected_jobs(mode).items():
                spec = by_name[name]["spec"]
                self.assertEqual(by_name[name]["spec"]["kind"], kind, name)
                self.assertEqual(int(spec["train"]["seed"]), 7, name)
                self.assertEqual(spec["data"].get("label_fraction"), fraction, name)
                if kind == "distill":
                    self.assertEqual(spec["teacher"], parent)
                # A child waits for its parent (a student for its teacher).
                expected_parent = by_name[parent]["id"] if parent else ""
                self.assertEqual(by_name[name].get("parent_id", ""), expected_parent, name)
            self.assertEqual(by_name["demo-pretrain"]["spec"]["world_size"], 2, mode)
            # The teacher has the mode's width (--full the sweep's widest),
            # the student half of it; the baselines are the teacher's network.
            teacher = by_name["demo-pretrain"]["spec"]["model"]
            self.assertAlmostEqual(teacher["width_multiplier"], pipeline.MODES[mode]["width"])
            self.assertAlmostEqual(by_name["demo-distill"]["spec"]["model"]["width_multiplier"],
                                   teacher["width_multiplier"] / 2)
            for pct in (1, 10, 100):
                self.assertEqual(by_name["demo-supervised-%dpct" % pct]["spec"]["model"], teacher)
            if mode == "full":
                # Self-distillation: the teacher's own network, no labels.
                self_distill = by_name["demo-self-distill-1pct"]["spec"]
                self.assertEqual(self_distill["model"], teacher)
                self.assertEqual(self_distill["distill"]["label_weight"], 0)
            # The budget-matched baselines get the short LARS fine-tuning
            # budget; the tuned ones the same network, trained far longer with
            # SGD. --full fine-tunes with the tuned baselines' optimiser and
            # budget, the others with the short recipe.
            for pct in (1, 10):
                finetune = by_name["demo-finetune-%dpct" % pct]["spec"]
                matched = by_name["demo-supervised-%dpct" % pct]["spec"]
                tuned = by_name["demo-supervised-tuned-%dpct" % pct]["spec"]
                self.assertEqual(tuned["model"], teacher)
                self.assertEqual(tuned["optimizer"]["name"], "sgd")
                self.assertTrue(tuned["optimizer"]["nesterov"])
                self.assertGreater(tuned["train"]["epochs"], matched["train"]["epochs"])
                # Fine-tuning crops as its baselines do: --full at least half
                # of each image, the other modes the official 8%.
                for spec in (finetune, matched, tuned):
                    self.assertAlmostEqual(spec["train"]["crop_area_min"],
                                           0.5 if mode == "full" else 0.08, msg=mode)
                if mode == "full":
                    self.assertEqual(finetune["optimizer"], tuned["optimizer"])
                    self.assertEqual(finetune["train"]["epochs"], tuned["train"]["epochs"])
                else:
                    self.assertEqual(finetune["optimizer"], matched["optimizer"])
                    self.assertEqual(finetune["train"]["epochs"], matched["train"]["epochs"])

    def test_modes_grow_in_training_and_only_quick_slices_the_data(self):
        def epochs(mode, name):
            return {j["spec"]["name"]: j for j in self.jobs[mode]}[name]["spec"]["train"]["epochs"]

        self.assertLess(epochs("default", "demo-pretrain"), epochs("full", "demo-pretrain"))
        self.assertEqual(pipeline.MODES["full"]["width"], max(pipeline.SWEEP_WIDTHS))
        for mode, jobs in self.jobs.items():
            for job in jobs:
                sliced = int(job["spec"]["data"].get("max_train_examples", 0)) > 0
                self.assertEqual(sliced, mode == "quick", (mode, job["spec"]["name"]))

    def test_seed_reaches_every_job(self):
        for job in submitted_jobs("quick", 12):
            self.assertEqual(int(job["spec"]["train"]["seed"]), 12, job["spec"]["name"])

    def test_ablation_knobs_reach_pretraining_only(self):
        script = runfile("scripts/demo_lib/pipeline.py")
        knobs = ["--temperature", "0.5", "--blur", "off", "--memory", "1024"]
        recorded = {j["spec"]["name"]: j["spec"] for j in self.jobs["quick"]}
        # The recorded recipe: blur on, temperature 0.2, no memory.
        self.assertTrue(recorded["demo-pretrain"]["train"]["blur"])
        self.assertAlmostEqual(recorded["demo-pretrain"]["train"]["temperature"], 0.2)
        self.assertEqual(int(recorded["demo-pretrain"]["train"].get("memory_size", 0)), 0)
        for mode in ("quick", "sweep"):
            text = subprocess.run([sys.executable, script, mode, "7"] + knobs,
                                  capture_output=True, text=True, check=True).stdout
            with Cluster(workers=0) as c:
                c.submit(text)
                jobs = {j["spec"]["name"]: j["spec"] for j in c.get("jobs")}
            pretraining = [name for name, spec in jobs.items() if spec["kind"] == "pretrain"]
            self.assertEqual(len(pretraining), 1 if mode == "quick" else 3, mode)
            for name in pretraining:
                self.assertAlmostEqual(jobs[name]["train"]["temperature"], 0.5, name)
                self.assertFalse(jobs[name]["train"]["blur"], name)
                self.assertEqual(int(jobs[name]["train"]["memory_size"]), 1024, name)
            if mode == "quick":
                for name, spec in jobs.items():
                    if name != "demo-pretrain":
                        self.assertEqual(spec, recorded[name], name)

    def test_bad_option_exits_naming_it(self):
        script = runfile("scripts/demo_lib/pipeline.py")
        for args, message in ((["fast"], "mode: got 'fast'"), (["quick", "-1"], "seed: got '-1'"),
                              (["quick", "--temperature", "0"], "--temperature: got '0'"),
                              (["quick", "--temperature", "inf"], "--temperature: got 'inf'"),
                              (["quick", "--blur", "yes"], "--blur: got 'yes'")):
            result = subprocess.run([sys.executable, script] + args, capture_output=True, text=True)
            self.assertNotEqual(result.returncode, 0, args)
            self.assertIn(message, result.stderr, args)

    def test_the_sweep_submits_three_widths_against_the_tuned_baseline(self):
        with Cluster(workers=0) as c:
            ids = c.submit(pipeline.sweep(7))
            jobs = {j["spec"]["name"]: j for j in c.get("jobs")}
        self.assertEqual(len(ids), 5 * len(pipeline.SWEEP_WIDTHS))
        pretrain_epochs = set()
        for width in pipeline.SWEEP_WIDTHS:
            pretrain = jobs[pipeline.sweep_name(width, "pretrain")]
            self.assertEqual(pretrain["spec"]["model"]["width_multiplier"], width)
            pretrain_epochs.add(pretrain["spec"]["train"]["epochs"])
            for pct in (1, 10):
                finetune = jobs[pipeline.sweep_name(width, "finetune-%dpct" % pct)]
                supervised = jobs[pipeline.sweep_name(width, "supervised-tuned-%dpct" % pct)]
                self.assertEqual(finetune["parent_id"], pretrain["id"])
                self.assertEqual(supervised["spec"]["model"], pretrain["spec"]["model"])
                self.assertEqual(supervised["spec"]["data"]["label_fraction"], pct / 100.0)
                self.assertEqual(supervised["spec"]["optimizer"]["name"], "sgd")
                # Fine-tuned the tuned way: the gain is pretraining's alone.
                self.assertEqual(finetune["spec"]["optimizer"], supervised["spec"]["optimizer"])
                self.assertEqual(finetune["spec"]["train"]["epochs"],
                                 supervised["spec"]["train"]["epochs"])
        # The same budget in epochs at every width.
        self.assertEqual(len(pretrain_epochs), 1)

        # The table by width, with the encoders' sizes from simclr-model.
        finished = []
        for name, job in jobs.items():
            job = dict(job)
            job["state"] = "SUCCEEDED"
            job["metrics"] = {"top1": 0.80 if "finetune" in name else 0.75}
            finished.append(job)
        with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
            out = os.path.join(tmp, "sweep.json")
            printed = subprocess.run(
                [sys.executable, runfile("scripts/demo_lib/results.py"), out, "--describe",
                 runfile("model/tools/simclr-model")],
                input=json.dumps({"jobs": finished}), capture_output=True, text=True, check=True).stdout
            with open(out) as f:
                rows = json.load(f)["rows"]
        self.assertEqual([(r["label_fraction"], r["width"]) for r in rows],
                         [(f, w) for f in (0.01, 0.1) for w in pipeline.SWEEP_WIDTHS])
        for r in rows:
            self.assertAlmostEqual(r["gain"], 0.05)
        params = [r["encoder_params"] for r in rows[:3]]
        self.assertEqual(params, sorted(params))
        self.assertEqual(params[1], 175688)  # w0.125, as docs/results.md counts it
        self.assertIn("+5.00", printed)

    def test_results_rows_and_json(self):
        jobs = [dict(j) for j in self.jobs["default"]]
        top1 = {"demo-finetune-1pct": 0.7505, "demo-supervised-1pct": 0.6681,
                "demo-distill": 0.7269}
        for job in jobs:
            if job["spec"]["name"] in top1:
                job["state"] = "SUCCEEDED"
                job["metrics"] = {"top1": top1[job["spec"]["name"]], "top5": 0.99}
        with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
            out = os.path.join(tmp, "results.json")
            printed = subprocess.run(
                [sys.executable, runfile("scripts/demo_lib/results.py"), out],
                input=json.dumps({"jobs": jobs}), capture_output=True, text=True, check=True).stdout
            with open(out) as f:
                rows = json.load(f)["rows"]
        # The pretraining job has no label fraction and no row of its own.
        self.assertEqual([r["job"] for r in rows], [
            "demo-supervised-1pct", "demo-supervised-tuned-1pct", "demo-finetune-1pct",
            "demo-supervised-10pct", "demo-supervised-tuned-10pct", "demo-finetune-10pct",
            "demo-distill", "demo-supervised-100pct", "demo-linear-eval"])
        by_job = {r["job"]: r for r in rows}
        for row in rows:
            self.assertTrue({"method", "label_fraction", "model", "top1"} <= set(row), row)
            self.assertEqual(row["seed"], 7, row)
        self.assertEqual(by_job["demo-finetune-1pct"]["method"], "simclrv2_finetune")
        self.assertEqual(by_job["demo-finetune-1pct"]["top1"], 0.7505)
        self.assertEqual(by_job["demo-linear-eval"]["method"], "linear_eval")
        self.assertEqual(by_job["demo-supervised-tuned-1pct"]["method"], "supervised_tuned")
        self.assertEqual(by_job["demo-supervised-1pct"]["method"], "supervised")
        # Labels reach the student through its teacher.
        self.assertEqual(by_job["demo-distill"]["label_fraction"], 0.1)
        self.assertEqual(by_job["demo-distill"]["model"], "ResNet-18 w0.0625")
        # A job that did not succeed has no top-1, and the table says its state.
        self.assertIsNone(by_job["demo-supervised-100pct"]["top1"])
        self.assertIn("75.05%", printed)
        self.assertRegex(printed, r"supervised\s+100%\s+ResNet-18 w0.125\s+(QUEUED|PENDING)")


if __name__ == "__main__":
    import cluster
    cluster.main()
