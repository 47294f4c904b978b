"""The job lifecycle verbs against a real coordinator and workers: logs
followed while a job runs, the exported network loaded in PyTorch, the training curve, filters, labels and pages,
delete (refused while running or needed, then the artifacts gone), retry,
and names that cannot pass for ids.
"""
import json
import os
import subprocess
import time
import unittest

from cluster import ClusterTestCase, runfile, tiny_pretrain, wait_until


def labelled(name, team, world_size=1, steps=4):
    return tiny_pretrain(name, steps, world_size=world_size) + "labels: {team: %s}\n" % team


class LifecycleTest(ClusterTestCase):
    def ctl(self, *args, check=False, timeout=600):
        c = self.cluster
        return subprocess.run([runfile("client/simclrctl"), "--coordinator=" + c.address] +
                              list(args), capture_output=True, text=True, timeout=timeout)

    def test_1_logs_follow_a_job_from_queued_to_its_end(self):
        c = self.cluster
        c.submit(tiny_pretrain("followed", 12, world_size=1, profile_step=3))
        # Started while the job may still be queued: it waits, prints, and ends with the job.
        follow = self.ctl("logs", "followed", "-f")
        self.assertEqual(follow.returncode, 0, follow.stderr + c.logs())
        job = c.job("followed")
        self.assertEqual(job["state"], "SUCCEEDED")
        with open(os.path.join(job["artifact_dir"], "attempt-1", "rank-0.log")) as f:
            self.assertEqual(follow.stdout, f.read())
        self.assertIn("simclr-trainer:", follow.stdout)
        # The network to take away: torch.load opens it, torchvision's blocks
        # load it, and it reproduces the trainer's outputs.
        exported = os.path.join(job["artifact_dir"], "attempt-1", "model.pt")
        check = subprocess.run(["/usr/bin/python3", runfile("model/checkpoint/testdata/export_check.py"),
                                exported], capture_output=True, text=True, timeout=300)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn("Model:", self.ctl("describe", "job", "followed").stdout)
        # Step 3 was traced: a Chrome trace whose table names the trainer's phases.
        trace = os.path.join(job["artifact_dir"], "attempt-1", "profile-rank-0.json")
        summary = subprocess.run(["/usr/bin/python3", runfile("bench/profile_summary.py"), trace],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(summary.returncode, 0, summary.stderr)
        for phase in ("forward", "backward", "optimizer", "aten::convolution_backward"):
            self.assertIn(phase, summary.stdout)
        again = self.ctl("logs", "followed")
        self.assertEqual(again.stdout, follow.stdout)
        bad = self.ctl("logs", "followed", "--rank", "3")
        self.assertEqual(bad.returncode, 2, bad.stderr)
        self.assertIn("rank: got 3, expected 0 to 0", bad.stderr)

    def test_2_the_training_curve_is_rank_zeros_step_log(self):
        curve = self.ctl("get", "job", "followed", "--metrics", "-o", "json")
        self.assertEqual(curve.returncode, 0, curve.stderr)
        steps = json.loads(curve.stdout)["steps"]
        self.assertEqual([int(s["step"]) for s in steps], list(range(1, 13)))
        self.assertTrue(all(s["values"]["loss"] > 0 for s in steps))
        # Each step says when it ended, in order and near now.
        times = [s["time"] for s in steps]
        self.assertEqual(times, sorted(times))
        self.assertLess(abs(times[-1] - time.time()), 3600)
        table = self.ctl("get", "job", "followed", "--metrics")
        self.assertIn("LOSS", table.stdout.splitlines()[0])
        self.assertEqual(len(table.stdout.splitlines()), 13)

    def test_3_filters_labels_and_pages(self):
        c = self.cluster
        # world_size 4 on 2 workers: they wait, and say why.
        names = ["wait-%d" % i for i in range(7)]
        c.submit("---\n".join(labelled(n, "a" if i % 2 else "b", world_size=4)
                              for i, n in enumerate(names)))
        listed = self.ctl("get", "jobs", "--state", "queued", "--chunk-size", "2", "-o", "json")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        queued = json.loads(listed.stdout)["jobs"]
        self.assertEqual([j["spec"]["name"] for j in queued], names)
        self.assertIn("waiting for", queued[0]["reason"])
        b = self.ctl("get", "jobs", "-l", "team=b", "--chunk-size", "1", "-o", "name")
        self.assertEqual(b.stdout.split(), names[0::2])
        limited = self.ctl("get", "jobs", "--state", "queued", "--limit", "3", "-o", "name")
        self.assertEqual(limited.stdout.split(), names[:3])
        table = self.ctl("get", "jobs", "--state", "queued")
        self.assertIn("REASON", table.stdout.splitlines()[0])
        self.assertIn("waiting for", table.stdout.splitlines()[1])
        wide = self.ctl("get", "jobs", "-l", "team=a", "-o", "wide")
        self.assertIn("team=a", wide.stdout)
        for n in names:
            self.assertEqual(self.ctl("delete", n, "--cancel").returncode, 0)
        self.assertEqual(self.ctl("get", "jobs", "-l", "team=a", "-o", "name").stdout, "")

    def test_4_delete_is_refused_while_running_then_removes_the_artifacts(self):
        c = self.cluster
        c.submit(tiny_pretrain("long", 400, world_size=1))
        wait_until(lambda: int(c.job("long")["progress"]["step"]) >= 1, 120, "the job to train")
        refused = self.ctl("delete", "long")
        self.assertEqual(refused.returncode, 2, refused.stderr)
        self.assertIn("cancel it first", refused.stderr)
        artifacts = c.job("long")["artifact_dir"]
        self.assertTrue(os.path.isdir(artifacts))
        deleted = self.ctl("delete", "long", "--cancel")
        self.assertEqual(deleted.returncode, 0, deleted.stderr)
        self.assertFalse(os.path.exists(artifacts))
        self.assertEqual(self.ctl("get", "job", "long").returncode, 1)
        wait_until(lambda: len([w for w in c.get("workers") if w["state"] == "IDLE"]) == 2, 60,
                   "the workers to be idle")

    def test_5_retry_submits_the_spec_as_submitted(self):
        c = self.cluster
        retried = self.ctl("retry", "followed")
        self.assertEqual(retried.returncode, 0, retried.stderr)
        self.assertEqual(retried.stdout.split()[1], "followed-retry-1")
        watched = c.watch("followed-retry-1")
        self.assertEqual(watched.returncode, 0, watched.stdout + c.logs())
        first, second = c.job("followed"), c.job("followed-retry-1")
        self.assertEqual(first["submitted_spec"]["train"], second["submitted_spec"]["train"])
        self.assertEqual(self.ctl("delete", "followed").returncode, 0)
        self.assertEqual(self.ctl("retry", "followed-retry-1").stdout.split()[1],
                         "followed-retry-1-retry-1")
        self.ctl("delete", "followed-retry-1-retry-1", "--cancel")

    def test_6_names_cannot_pass_for_ids_or_repeat_among_live_jobs(self):
        c = self.cluster
        id_shaped = c.ctl("submit", "-f", "-", stdin=tiny_pretrain("j-1", 4), check=False)
        self.assertEqual(id_shaped.returncode, 2)
        self.assertIn("not of the form j-<number>", id_shaped.stderr)
        c.submit(labelled("twice", "a", world_size=4))
        again = c.ctl("submit", "-f", "-", stdin=labelled("twice", "a", world_size=4), check=False)
        self.assertEqual(again.returncode, 2)
        self.assertIn("already used by live job", again.stderr)
        self.assertEqual(self.ctl("delete", "twice", "--cancel").returncode, 0)


if __name__ == "__main__":
    from cluster import main
    main()
