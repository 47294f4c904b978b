"""Each task runs in a trainer process that its worker's agent supervises
(NOTE [trainer process] in worker/trainer_process_runner.h). A trainer that is
SIGKILLed, that outgrows its memory limit, or that is frozen with SIGSTOP in
the middle of a gang fails its attempt with a reason naming the cause, while
every worker daemon stays up and registered, and then runs the next job.
"""
import os
import signal
import subprocess
import tempfile
import unittest

from cluster import Cluster, attempt_file, runfile, wait_until

MODEL = "model: {depth: 18, width_multiplier: 0.125, proj_head_layers: 2, proj_dim: 16}\n"
DATA = "data: {dataset: fashion-mnist, max_train_examples: 2048, max_test_examples: 128}\n"
OPTIMIZER = "optimizer: {name: lars, base_lr: 1.0, warmup_epochs: 0}\n"


def spec(name, world_size, steps, model=MODEL, batch=32):
    return ("name: %s\nkind: pretrain\nworld_size: %d\nmax_restarts: 0\n" % (name, world_size) +
            model + DATA + OPTIMIZER +
            "train: {batch_size: %d, epochs: 1000, max_steps: %d, temperature: 0.2, seed: 3}\n"
            % (batch, steps))


class TrainerFaultsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # 2 GiB holds a small job's trainer (about 1.3 GiB of address space
        # with one thread) but not a full-width network at batch 512.
        cls.cluster = Cluster(workers=2, worker_args=[
            "--task_memory_limit_mb=2048", "--trainer_liveness_timeout=5s",
            "--trainer_grace_period=5s"])
        cls.worker_ids = sorted(w["id"] for w in cls.cluster.get("workers"))

    @classmethod
    def tearDownClass(cls):
        cls.cluster.close()

    def tearDown(self):
        # A failed case must not leave a job holding the workers of the next.
        for job in self.cluster.get("jobs"):
            if job["state"] in ("QUEUED", "RUNNING", "PENDING"):
                self.cluster.ctl("cancel", job["id"], check=False)

    def running(self, name, min_step=2):
        return wait_until(
            lambda: (lambda j: j if j["state"] == "RUNNING" and
                     j["progress"].get("step", 0) >= min_step else None)(self.cluster.job(name)),
            180, "%s to run %d steps" % (name, min_step))

    def failed(self, name):
        c = self.cluster
        job = wait_until(lambda: (lambda j: j if j["state"] in ("FAILED", "SUCCEEDED") else None)(
            c.job(name)), 180, name + " to end")
        self.assertEqual(job["state"], "FAILED", c.logs())
        return job

    def assert_workers_survive_and_run(self, follow_up):
        """Every worker daemon is alive, registered under its id and idle,
        and a following world-size-2 job uses both and succeeds."""
        c = self.cluster
        for proc in c.workers:
            self.assertIsNone(proc.poll(), "a worker daemon exited\n" + c.logs())
        wait_until(lambda: all(w["state"] == "IDLE" for w in c.get("workers")), 60,
                   "both workers idle\n" + c.logs())
        self.assertEqual(sorted(w["id"] for w in c.get("workers")), self.worker_ids)
        c.submit(spec(follow_up, 2, 4))
        watched = c.watch(follow_up, timeout=300)
        self.assertEqual(watched.returncode, 0, watched.stdout + watched.stderr + c.logs())
        self.assertEqual(c.job(follow_up)["state"], "SUCCEEDED")

    def test_a_killed_trainer_fails_its_attempt_and_the_worker_stays(self):
        c = self.cluster
        c.submit(spec("killed", 1, 100000))
        worker = self.running("killed")["workers"][0]
        os.kill(c.trainer_pid(worker), signal.SIGKILL)
        job = self.failed("killed")
        self.assertIn("rank 0 on worker %s failed: trainer killed by signal 9 (SIGKILL)" % worker,
                      job["reason"])
        self.assert_workers_survive_and_run("after-kill")

    def test_a_trainer_over_its_memory_limit_fails_with_out_of_memory(self):
        c = self.cluster
        wide = "model: {depth: 18, width_multiplier: 1, proj_head_layers: 2, proj_dim: 16}\n"
        c.submit(spec("too-big", 1, 10, model=wide, batch=512))
        job = self.failed("too-big")
        self.assertIn("out of memory", job["reason"])
        # The rank log holds the whole story; the reason only a short tail.
        self.assertLess(len(job["reason"]), 1000)
        log = attempt_file(job, 1, "rank-0.log")
        with open(log, errors="replace") as f:
            self.assertIn("simclr-trainer: %s.1" % job["id"], f.read())
        self.assert_workers_survive_and_run("after-oom")

    def test_a_cancelled_gang_stops_together_and_keeps_the_step_it_agreed_on(self):
        c = self.cluster
        c.submit(spec("cancelled", 2, 100000).replace("seed: 3}", "seed: 3, checkpoint_every_steps: 100000}"))
        job = self.running("cancelled", min_step=3)
        c.ctl("cancel", "cancelled")
        job = wait_until(lambda: (lambda j: j if j["state"] == "CANCELLED" else None)(
            c.job("cancelled")), 60, "the cancel")
        # SIGTERM reached the trainers; they voted to stop at one step and
        # rank 0 wrote that step, though no periodic checkpoint was due.
        wait_until(lambda: all(w["state"] == "IDLE" for w in c.get("workers")), 60, "idle workers")
        checkpoints = [f for f in os.listdir(attempt_file(job, 1, "")) if f.startswith("ckpt-")]
        self.assertEqual(len(checkpoints), 1, checkpoints)
        logs = [open(attempt_file(job, 1, "rank-%d.log" % r), errors="replace").read()
                for r in (0, 1)]
        stops = [log.split("cancelled at step ")[1].split()[0] for log in logs]
        self.assertEqual(stops[0], stops[1])
        self.assertEqual(checkpoints[0], "ckpt-%s.simclr" % stops[0])
        self.assert_workers_survive_and_run("after-cancel")

    def test_a_frozen_trainer_fails_the_gang_and_its_peer_is_ended(self):
        c = self.cluster
        c.submit(spec("frozen", 2, 100000))
        gang = self.running("frozen")["workers"]
        peer_pid = c.trainer_pid(gang[0])
        frozen_pid = c.trainer_pid(gang[1])
        os.kill(frozen_pid, signal.SIGSTOP)
        job = self.failed("frozen")
        self.assertIn("rank 1 on worker %s failed: trainer sent nothing for" % gang[1],
                      job["reason"])
        self.assertIn("process state: stopped by a signal", job["reason"])
        for pid in (frozen_pid, peer_pid):
            wait_until(lambda: not os.path.exists("/proc/%d" % pid) or
                       open("/proc/%d/stat" % pid).read().split(") ")[1][0] == "Z",
                       60, "trainer %d to end" % pid)
        self.assert_workers_survive_and_run("after-freeze")


class DeviceProbeTest(unittest.TestCase):
    def test_a_cuda_worker_without_that_gpu_refuses_to_start(self):
        with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as work:
            result = subprocess.run(
                [runfile("worker/simclr-worker"), "--device=cuda:7", "--work_dir=" + work],
                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("simclr-worker: --device=cuda:7: this machine has ", result.stderr)
        self.assertIn("CUDA device(s) visible to this LibTorch", result.stderr)


if __name__ == "__main__":
    import cluster
    cluster.main()
