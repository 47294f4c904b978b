"""The control plane end to end: real coordinator, 2 real workers, real simclrctl.

A world_size-2 job succeeds; the coordinator is killed with SIGKILL and
restarted on the same state_dir and still knows the job; invalid spec files
are rejected with exit code 2 and store nothing; a lost worker fails its job
with a reason naming it; a cancelled job frees its workers.
"""
import os
import subprocess
import unittest

from cluster import ClusterTestCase, runfile, tiny_pretrain, wait_until

def tiny(name, world_size=2, steps=4, max_restarts=0):
    return tiny_pretrain(name, steps, world_size=world_size, max_restarts=max_restarts,
                         test_examples=256, checkpoint_every=2)


class ControlPlaneTest(ClusterTestCase):
    def test_1_gang_job_succeeds_and_survives_a_coordinator_kill(self):
        c = self.cluster
        ids = c.submit(tiny("gang"))
        self.assertEqual(len(ids), 1)
        watched = c.watch("gang")
        self.assertEqual(watched.returncode, 0, watched.stdout + watched.stderr + c.logs())
        self.assertIn("SUCCEEDED", watched.stdout)
        before = c.job("gang")
        self.assertEqual(before["state"], "SUCCEEDED")
        self.assertEqual(before["spec"]["world_size"], 2)
        self.assertEqual(len(before["workers"]), 2)
        self.assertEqual(int(before["progress"]["step"]), 4)
        self.assertTrue(os.path.exists(before["checkpoint"]), before["checkpoint"])
        self.assertGreaterEqual(before["metrics"]["top1"], 0.0)

        c.kill_coordinator()
        c.start_coordinator()
        after = c.job(ids[0])
        for field in ("id", "spec", "state", "attempts", "workers", "checkpoint", "finished_at"):
            self.assertEqual(after[field], before[field], field)
        self.assertEqual(int(after["progress"]["step"]), 4)
        # The workers find the new coordinator and register again.
        wait_until(lambda: len([w for w in c.get("workers") if w["state"] == "IDLE"]) == 2, 30,
                   "the workers to re-register")

    def test_2_invalid_specs_exit_2_and_store_nothing(self):
        c = self.cluster
        count = len(c.get("jobs"))
        cases = {
            "unknown field": (tiny("u1").replace("seed: 3", "seed: 3, sede: 4"), "sede"),
            "world_size 0": (tiny("u2", world_size=0), "world_size"),
            "unknown kind": (tiny("u3").replace("kind: pretrain", "kind: pretrian"), "kind"),
            "missing parent": ("name: u4\nkind: finetune\n", "parent"),
            "parent cycle": ("name: a\nkind: finetune\nparent: b\n---\nname: b\nkind: finetune\nparent: a\n",
                             "cycle"),
            "yaml syntax": ("name: [unclosed\n", "line"),
            "duplicate name": (tiny("dup") + "---\n" + tiny("dup"), "dup"),
            # Reported by users: each was accepted and failed late (or ran 1 step).
            "epochs 1e300": (tiny("u5").replace("epochs: 1", "epochs: 1e300"),
                             "train.epochs: got 1e+300, expected a number in (0, 100000]"),
            "temperature inf": (tiny("u6").replace("temperature: 0.2", "temperature: .inf"),
                                "train.temperature: got inf"),
            "a file outside the data roots": (
                "name: u7\nkind: supervised\ndata: {dataset: fashion-mnist, "
                "label_index_file: /etc/os-release}\n",
                "data.label_index_file: got \"/etc/os-release\", expected an absolute path under "
                "one of the data roots (/usr/share/datasets)"),
        }
        for label, (text, mentioned) in cases.items():
            result = c.ctl("submit", "-f", "-", stdin=text, check=False)
            self.assertEqual(result.returncode, 2, "%s: %s%s" % (label, result.stdout, result.stderr))
            self.assertIn(mentioned, result.stderr, label)
        self.assertEqual(len(c.get("jobs")), count)

    def test_3_a_lost_worker_fails_its_job_naming_it(self):
        c = self.cluster
        c.submit(tiny("lost", steps=100000))
        job = wait_until(lambda: (lambda j: j if int(j["progress"]["step"]) >= 1 else None)(c.job("lost")),
                         120, "the job to make progress")
        victim = job["workers"][1]
        c.kill_worker(victim)
        final = wait_until(lambda: (lambda j: j if j["state"] == "FAILED" else None)(c.job("lost")),
                           60, "the job to fail")
        self.assertRegex(final["reason"], r"worker w-\d+ lost|rank \d on worker w-\d+ failed")
        c.add_worker()

    def test_4_cancel_frees_the_gang(self):
        c = self.cluster
        wait_until(lambda: len([w for w in c.get("workers") if w["state"] == "IDLE"]) >= 2, 60,
                   "two idle workers")
        c.submit(tiny("cancel-me", steps=100000))
        wait_until(lambda: c.job("cancel-me")["state"] == "RUNNING", 60, "the job to run")
        c.ctl("cancel", "cancel-me")
        self.assertEqual(c.job("cancel-me")["state"], "CANCELLED")
        self.assertEqual(c.watch("cancel-me").returncode, 1)
        wait_until(lambda: len([w for w in c.get("workers") if w["state"] == "IDLE"]) >= 2, 30,
                   "the workers to be idle again")


class DaemonHelpTest(unittest.TestCase):
    """Each daemon's --help lists its own flags (it printed "No flags
    matched" when they lived in main.cc)."""

    def test_help_lists_each_daemons_own_flags(self):
        for binary, flags in (("coordinator/simclr-coordinator", ["--listen", "--state_dir",
                                                                  "--unhealthy_after_failures"]),
                              ("worker/simclr-worker", ["--coordinator", "--device",
                                                        "--trainer_grace_period"]),
                              ("worker/simclr-trainer", ["--device", "--probe"])):
            result = subprocess.run([runfile(binary), "--help"], capture_output=True, text=True,
                                    timeout=60)
            text = result.stdout + result.stderr
            self.assertNotIn("No flags matched", text, binary)
            for flag in flags:
                self.assertIn(flag, text, binary)
            self.assertNotIn("--stderrthreshold", text, binary)  # not everybody's flags


if __name__ == "__main__":
    import cluster
    cluster.main()
