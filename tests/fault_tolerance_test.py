"""Faults the service survives by design (docs/reliability.md): a paused
coordinator loses no worker and restarts nothing; a second coordinator on the
same state directory refuses to start. The SIGKILLed-worker restart is
tests/restart_test.py, trainer faults tests/trainer_faults_test.py.
"""
import errno
import os
import signal
import subprocess
import tempfile
import time
import unittest

from cluster import (Cluster, ClusterTestCase, assert_same_as_undisturbed, attempt_file,
                     follow_recovery, free_port, report_recovery, runfile, step_log, tiny_pretrain,
                     wait_until)

def spec(name, steps, **overrides):
    """The chaos suite's job: world size 2, checkpoints every 4 steps."""
    options = dict(train_examples=4096, base_lr=1.0, seed=9, checkpoint_every=4)
    options.update(overrides)
    return tiny_pretrain(name, steps, **options)


class FaultToleranceTest(ClusterTestCase):
    def test_a_coordinator_paused_for_three_leases_loses_no_worker(self):
        c = self.cluster
        c.submit(spec("paused", 60))
        wait_until(lambda: c.job("paused")["progress"].get("step", 0) >= 2, 180, "2 steps")
        before = int(c.job("paused")["progress"]["step"])
        # A long fsync, a VM stall, a GC pause: 3 lease periods (1 s
        # heartbeats, 3 missed make a lease) without the coordinator.
        c.coordinator.send_signal(signal.SIGSTOP)
        paused = time.monotonic()
        try:
            time.sleep(9)
        finally:
            c.coordinator.send_signal(signal.SIGCONT)
        watched = c.watch("paused", timeout=600)
        report_recovery("coordinator paused 9 s", c.job("paused"), paused, done=time.monotonic())
        self.assertEqual(watched.returncode, 0, watched.stdout + watched.stderr + c.logs())
        job = c.job("paused")
        self.assertEqual(job["state"], "SUCCEEDED")
        self.assertEqual(job["attempts"], 1, job["reason"])  # nothing restarted
        self.assertGreater(int(job["progress"]["step"]), before)
        self.assertFalse([w for w in c.get("workers") if w["state"] == "LOST"], c.get("workers"))

    def test_a_corrupt_checkpoint_falls_back_to_the_newest_good_one(self):
        c = self.cluster
        c.submit(spec("corrupt", 40, max_restarts=1))
        first = wait_until(lambda: (lambda j: j if j["progress"].get("step", 0) >= 9 else None)(
            c.job("corrupt")), 180, "9 steps")
        c.kill_worker(first["workers"][1])
        killed = time.monotonic()
        # The gang fails and waits for a second worker: the moment to tear the
        # checkpoint it will resume from.
        queued = wait_until(lambda: (lambda j: j if j["state"] == "QUEUED" else None)(
            c.job("corrupt")), 60, "the attempt to fail")
        torn = queued["checkpoint"]
        with open(torn, "r+b") as f:
            f.seek(os.path.getsize(torn) // 2)
            f.write(b"\xff" * 64)
        c.add_worker()
        watched = c.watch("corrupt", timeout=600)
        self.assertEqual(watched.returncode, 0, watched.stdout + watched.stderr + c.logs())
        job = c.job("corrupt")
        report_recovery("newest checkpoint torn, then a worker SIGKILLed (a spare added after)",
                        job, killed, done=time.monotonic())
        self.assertEqual(job["attempts"], 2)
        with open(attempt_file(job, 2, "rank-0.log")) as f:
            log = f.read()
        self.assertIn("cannot resume from " + torn, log)
        resumed = log.split("resumes at step ")[1].split()
        self.assertLess(int(resumed[0]), int(torn.split("ckpt-")[1].split(".")[0]))
        self.assertNotEqual(resumed[2], torn)
        # The job's events say so.
        described = c.ctl("describe", "job", "corrupt").stdout
        self.assertIn("attempt 2 says: at step", described)
        self.assertIn("cannot resume from " + torn, described)
        self.assertIn("resumed from " + resumed[2], described)

    def test_an_error_a_retry_cannot_fix_fails_the_job_at_once(self):
        c = self.cluster
        c.submit(spec("no-data", 4, max_restarts=2,
                      data_path="/usr/share/datasets/nothing"))
        job = wait_until(lambda: (lambda j: j if j["state"] in ("FAILED", "SUCCEEDED") else None)(
            c.job("no-data")), 120, "the job to end")
        self.assertEqual(job["state"], "FAILED")
        self.assertEqual(job["attempts"], 1, job["reason"])
        self.assertIn("/usr/share/datasets/nothing", job["reason"])
        self.assertIn("(a retry cannot fix this: not restarted)", job["reason"])

    def test_a_killed_coordinator_comes_back_and_its_gang_continues(self):
        """NOTE [reconciliation]: the gang trains on while the coordinator is
        down; its workers register again saying what they run, and the same
        attempt goes on: nothing restarted, nothing redone."""
        c = self.cluster
        wait_until(lambda: len([w for w in c.get("workers") if w["state"] == "IDLE"]) >= 2, 60,
                   "two idle workers")
        steps = 120  # enough to outlast the coordinator's absence
        c.submit(spec("coordinator-killed", steps))  # max_restarts: 0
        before = wait_until(lambda: (lambda j: j if j["checkpoint"] and int(j["progress"]["step"]) >= 5
                                     else None)(c.job("coordinator-killed")), 180, "a checkpoint")
        c.kill_coordinator()
        killed = time.monotonic()
        # Away for two leases, as a rescheduled pod is. Reported: the workers'
        # channels had backed off meanwhile (gRPC's default grows to 2 min),
        # and a gang's ranks came back after the lease its coordinator gave
        # them, so the job was requeued.
        time.sleep(6)
        c.start_coordinator()
        watched = c.watch("coordinator-killed", timeout=600)
        self.assertEqual(watched.returncode, 0, watched.stdout + watched.stderr + c.logs())
        job = c.job("coordinator-killed")
        report_recovery("coordinator SIGKILLed, restarted 6 s later", job, killed, done=time.monotonic())
        described = c.ctl("describe", "job", "coordinator-killed").stdout
        self.assertEqual(job["attempts"], 1, described + c.logs())
        self.assertEqual(job["restarts"], 0)
        self.assertIn("came back after the coordinator restarted", described)
        self.assertEqual(sorted({s["step"] for s in step_log(job)}), list(range(1, steps + 1)))
        self.assertEqual(len(step_log(job)), steps)  # no step trained twice
        self.assertNotEqual(job["workers"], before["workers"])  # new ids, same gang

    def test_a_second_coordinator_on_the_same_state_dir_is_refused(self):
        c = self.cluster
        result = subprocess.run(
            [runfile("coordinator/simclr-coordinator"), "--listen=127.0.0.1:%d" % free_port(),
             "--metrics_listen=", "--state_dir=" + c.state_dir],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("state_dir %s is in use by another coordinator (pid %d)"
                      % (c.state_dir, c.coordinator.pid), result.stderr)
        self.assertEqual(c.ctl("get", "jobs").returncode, 0)  # the first one serves on


class HungWorkerTest(unittest.TestCase):
    """A whole worker stops (agent and trainer: a hung machine). Its lease
    expires, its peer's trainer is ended, and the gang restarts on the other
    workers from its checkpoint."""

    def test_a_frozen_worker_is_replaced_and_the_gang_resumes(self):
        with Cluster(workers=3, worker_args=["--trainer_grace_period=5s"]) as c:
            c.submit(spec("hung", 40, max_restarts=1))
            job = wait_until(lambda: (lambda j: j if j["checkpoint"] and
                                      int(j["progress"]["step"]) >= 5 else None)(c.job("hung")),
                             180, "a checkpoint")
            victim = job["workers"][1]
            agent = c.workers[c.worker_index(victim)]
            trainer = c.trainer_pid(victim)
            for pid in (agent.pid, trainer):
                os.kill(pid, signal.SIGSTOP)
            stopped = time.monotonic()
            try:
                wait_until(lambda: c.job("hung")["attempts"] == 2, 120, "a second attempt")
                detected = time.monotonic()
                watched = c.watch("hung", timeout=600)
                recovered = time.monotonic()
            finally:
                for pid in (agent.pid, trainer):
                    os.kill(pid, signal.SIGCONT)
            self.assertEqual(watched.returncode, 0, watched.stdout + watched.stderr + c.logs())
            final = c.job("hung")
            self.assertNotIn(victim, final["workers"])
            self.assertIn(victim, [w["id"] for w in c.get("workers") if w["state"] == "LOST"])
            report_recovery("a whole worker SIGSTOPped", final, stopped, detected, recovered)


class DrainTest(unittest.TestCase):
    """A worker of a running gang gets SIGTERM (a node drained, a pod
    evicted): the gang stops at one agreed step, rank 0 checkpoints it, the
    worker hands the job back and leaves, and the job resumes on the others
    from exactly that step, spending no restart."""

    def test_a_drained_worker_hands_its_gang_over_without_losing_a_step(self):
        with Cluster(workers=3) as c:
            # No periodic checkpoint: the only one is the step the gang agreed on.
            c.submit(spec("drained", 40, checkpoint_every=1000))  # max_restarts: 0
            job = wait_until(lambda: (lambda j: j if j["progress"].get("step", 0) >= 5 else None)(
                c.job("drained")), 180, "5 steps")
            victim = job["workers"][1]
            c.workers[c.worker_index(victim)].send_signal(signal.SIGTERM)
            job = follow_recovery(self, c, "drained", "a gang's worker drained (SIGTERM)",
                                  time.monotonic())
            self.assertEqual(job["restarts"], 0)
            self.assertEqual(job["attempts"], 2)
            self.assertNotIn(victim, job["workers"])
            self.assertIn(victim, [w["id"] for w in c.get("workers") if w["state"] == "DRAINED"])
            log = step_log(job)
            self.assertEqual([s["step"] for s in log], list(range(1, 41)))  # none lost, none redone
            assert_same_as_undisturbed(self, c, spec("reference", 40), log)


class FullDiskTest(unittest.TestCase):
    """The artifact volume fills up mid-run (a tmpfs of its own, filled by a
    file; the test is skipped where the sandbox does not allow mounting).
    The attempt that cannot write fails with the cause, leaves no
    half-written checkpoint, and the job continues from its recorded
    checkpoint once there is space again, with the losses of a run that never
    saw a full disk."""

    def setUp(self):
        self.volume = tempfile.mkdtemp(prefix="simclr-full-disk-", dir=os.environ.get("TEST_TMPDIR"))
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", self.volume],
                                 capture_output=True, text=True)
        if mounted.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + mounted.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", self.volume])

    def fill(self):
        """Writes a file until the volume is full; returns its path."""
        path = os.path.join(self.volume, "filler")
        with open(path, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
            except OSError as e:
                self.assertEqual(e.errno, errno.ENOSPC)
        return path

    def test_a_full_disk_fails_the_attempt_cleanly_and_the_job_resumes(self):
        with Cluster(workers=2, coordinator_args=["--artifact_dir=" + self.volume]) as c:
            c.submit(spec("full", 40, max_restarts=3))
            before = wait_until(lambda: (lambda j: j if j["checkpoint"] and
                                         int(j["progress"]["step"]) >= 6 else None)(c.job("full")),
                                180, "a checkpoint")
            filler = self.fill()
            filled = time.monotonic()
            wait_until(lambda: (lambda j: j["attempts"] >= 2 or j["state"] != "RUNNING")(
                c.job("full")), 120, "the attempt to fail")
            detected = time.monotonic()
            os.remove(filler)
            watched = c.watch("full", timeout=600)
            recovered = time.monotonic()
            self.assertEqual(watched.returncode, 0, watched.stdout + watched.stderr + c.logs())
            job = c.job("full")
            self.assertEqual(job["attempts"], 2, job["reason"])

            # Nothing half-written was left, and attempt 2 resumed from the
            # checkpoint the coordinator had recorded: it loaded.
            leftovers = [f for a in (1, 2) for f in os.listdir(attempt_file(job, a, ""))
                         if ".tmp." in f]
            self.assertEqual(leftovers, [])
            with open(attempt_file(job, 1, "rank-0.log")) as f:
                self.assertIn("No space left on device", f.read())
            # The job's events tell the story: attempt 1 ended (the first
            # report wins: rank 0's full disk, or its peer's broken
            # collective), attempt 2 resumed from the recorded checkpoint.
            described = c.ctl("describe", "job", "full")
            self.assertEqual(described.returncode, 0, described.stderr)
            self.assertIn("attempt 1 ended, requeued: at step", described.stdout)
            self.assertIn("attempt 2 started: on ", described.stdout)
            self.assertIn("resuming from " + before["checkpoint"].rsplit("/", 1)[0],
                          described.stdout)
            with open(attempt_file(job, 2, "rank-0.log")) as f:
                log = f.read()
            self.assertNotIn("cannot resume", log)
            resumed_at = int(log.split("resumes at step ")[1].split()[0])
            recorded_before = int(before["checkpoint"].split("ckpt-")[1].split(".")[0])
            self.assertGreaterEqual(resumed_at, recorded_before)
            log_lines = step_log(job)
            report_recovery("artifact volume full mid-run (freed once the attempt failed)", job,
                            filled, detected, recovered)

            assert_same_as_undisturbed(self, c, spec("reference", 40), log_lines)


if __name__ == "__main__":
    import cluster
    cluster.main()
