"""A local SimCLR cluster for multi-process tests: a real simclr-coordinator
and real simclr-worker processes on free loopback ports, driven through the
real simclrctl. Every process is killed when the cluster is closed.

    with Cluster(workers=2) as c:
        ids = c.submit(SPEC_YAML)
        c.watch("my-job")
        job = c.job("my-job")
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import junit_runner

RUNFILES = os.environ.get("TEST_SRCDIR", "")
WORKSPACE = os.environ.get("TEST_WORKSPACE", "simclr")


def runfile(path):
    """Absolute path of a data dependency (e.g. 'coordinator/simclr-coordinator').
    SIMCLR_BIN_DIR, when set, is a build tree laid out like bazel-bin (the CMake
    mirror's build/cmake): the same tests then run the CMake-built binaries."""
    bin_dir = os.environ.get("SIMCLR_BIN_DIR")
    if bin_dir:
        return os.path.join(os.path.abspath(bin_dir), path)
    if RUNFILES:
        candidate = os.path.join(RUNFILES, WORKSPACE, path)
        if os.path.exists(candidate):
            return candidate
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(root, "bazel-bin", path)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what):
    """Polls `predicate` until it is true; fails naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


# The API's int64 fields (proto/simclr/v1), which protobuf's JSON mapping
# writes as strings.
INT64_FIELDS = {"step", "total_steps", "seed", "max_steps", "max_train_examples",
                "max_test_examples", "validation_examples", "memory_size",
                "checkpoint_every_steps", "memory_bytes", "device_memory_bytes"}


def int64_fields_as_ints(obj):
    """json.loads object_hook: the int64 fields of `obj` as ints."""
    for key in INT64_FIELDS & obj.keys():
        if isinstance(obj[key], str):
            obj[key] = int(obj[key])
    return obj


def tiny_pretrain(name, steps, world_size=2, max_restarts=0, train_examples=1024,
                  test_examples=128, base_lr=0.3, seed=3, checkpoint_every=None, data_path=None,
                  memory_size=0, profile_step=0):
    """A pretraining spec that trains in seconds on 2 cores: ResNet-18 width
    0.125, a 2-layer 16-d head, batch 32, one epoch capped at `steps`; with
    `memory_size`, a memory of negatives; with `profile_step`, that step traced."""
    data = "dataset: fashion-mnist, %smax_train_examples: %d, max_test_examples: %d" % (
        "path: %s, " % data_path if data_path else "", train_examples, test_examples)
    train = "batch_size: 32, epochs: 1, max_steps: %d, temperature: 0.2, seed: %d" % (steps, seed)
    if checkpoint_every is not None:
        train += ", checkpoint_every_steps: %d" % checkpoint_every
    if memory_size:
        train += ", memory_size: %d" % memory_size
    if profile_step:
        train += ", profile_step: %d" % profile_step
    return ("name: %s\nkind: pretrain\nworld_size: %d\nmax_restarts: %d\n"
            "model: {depth: 18, width_multiplier: 0.125, proj_head_layers: 2, proj_dim: 16}\n"
            "data: {%s}\n"
            "optimizer: {name: lars, base_lr: %r, warmup_epochs: 0}\n"
            "train: {%s}\n") % (name, world_size, max_restarts, data, base_lr, train)


def attempt_file(job, attempt, name):
    """Where attempt `attempt` of `job` wrote `name` (a checkpoint, steps.jsonl,
    rank-R.log): <artifact_dir>/attempt-<A>/<name>, as
    model/checkpoint/checkpoint_files.h lays it out."""
    return os.path.join(job["artifact_dir"], "attempt-%d" % attempt, name)


def step_log(job):
    """Rank 0's step log of every attempt of `job`, in attempt order: the steps
    a restart replays appear again after the lines they replace."""
    lines = []
    for attempt in range(1, job["attempts"] + 1):
        path = attempt_file(job, attempt, "steps.jsonl")
        if os.path.exists(path):
            with open(path) as f:
                lines += [json.loads(line) for line in f if line.strip()]
    return lines


def steps_redone(job):
    """Steps the job trained twice: from where each later attempt resumed to
    the last step its predecessor had logged."""
    redone = 0
    for attempt in range(2, job["attempts"] + 1):
        before = step_log(dict(job, attempts=attempt - 1))
        after = [s["step"] for s in step_log(dict(job, attempts=attempt))[len(before):]]
        if before and after:
            redone += max(0, max(s["step"] for s in before) - (min(after) - 1))
    return redone


def report_recovery(scenario, job, fault, detected=None, done=None):
    """Prints one line per chaos scenario (docs/reliability.md records them):
    seconds from the fault (a time.monotonic() value) to the next attempt and
    to the job's end, and the steps redone."""
    def since(t):
        return "-" if t is None else "%.1f s" % (t - fault)
    print("chaos %s: next attempt %s after the fault, job done %s after it, %d steps redone,"
          " %d attempts" % (scenario, since(detected), since(done), steps_redone(job),
                            job["attempts"]))


def follow_recovery(test, c, name, scenario, fault):
    """After a fault at `fault` (a time.monotonic() value): waits for job
    `name`'s next attempt and its end, asserts that it SUCCEEDED, prints the
    scenario's recovery line and returns the job."""
    detected = wait_until(lambda: c.job(name)["attempts"] >= 2 and time.monotonic(), 120,
                          "the second attempt of " + name)
    watched = c.watch(name, timeout=600)
    test.assertEqual(watched.returncode, 0, watched.stdout + watched.stderr + c.logs())
    job = c.job(name)
    report_recovery(scenario, job, fault, detected, time.monotonic())
    test.assertEqual(job["state"], "SUCCEEDED")
    return job


def assert_same_as_undisturbed(test, c, spec, log):
    """Runs `spec` (named "reference") without a fault and asserts that every
    line of `log` (the disturbed run's step log, replays included) has the
    learning rate and loss of the same step there: the same weights,
    optimizer state and data order after every resume."""
    c.submit(spec)
    test.assertEqual(c.watch("reference", timeout=600).returncode, 0, c.logs())
    reference = {s["step"]: s for s in step_log(c.job("reference"))}
    test.assertEqual(sorted({s["step"] for s in log}), sorted(reference))
    for s in log:
        r = reference[s["step"]]
        test.assertAlmostEqual(s["lr"], r["lr"], places=12)
        test.assertLess(abs(s["loss"] - r["loss"]), 1e-4 * abs(r["loss"]),
                        "step %d: %r disturbed, %r undisturbed" % (s["step"], s["loss"], r["loss"]))


class Cluster:
    def __init__(self, workers=2, heartbeat="1s", state_dir=None, threads=1, worker_args=(),
                 coordinator_args=(), ctl_args=()):
        self.tmp = tempfile.mkdtemp(prefix="simclr-cluster-", dir=os.environ.get("TEST_TMPDIR"))
        self.state_dir = state_dir or os.path.join(self.tmp, "state")
        self.heartbeat = heartbeat
        self.threads = threads
        self.worker_args = list(worker_args)
        self.coordinator_args = list(coordinator_args)
        self.ctl_args = list(ctl_args)
        self.port = free_port()
        self.address = "127.0.0.1:%d" % self.port
        self.metrics_port = free_port()
        self.coordinator = None
        self.workers = []
        self.worker_metrics_ports = []
        self.start_coordinator()
        for _ in range(workers):
            self.add_worker()
        wait_until(lambda: len([w for w in self.get("workers") if w["state"] == "IDLE"]) == workers,
                   60, "%d idle workers" % workers)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def log(self, name):
        """The file a process's output is appended to (the child keeps its own handle)."""
        return open(os.path.join(self.tmp, name + ".log"), "ab")

    def start_coordinator(self):
        with self.log("coordinator") as log:
            self.coordinator = subprocess.Popen(
                [runfile("coordinator/simclr-coordinator"), "--listen=" + self.address,
                 "--metrics_listen=127.0.0.1:%d" % self.metrics_port,
                 "--state_dir=" + self.state_dir, "--heartbeat_interval=" + self.heartbeat] +
                self.coordinator_args,
                stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.ctl("get", "workers", check=False).returncode == 0, 30,
                   "the coordinator to answer")

    def kill_coordinator(self):
        self.coordinator.send_signal(signal.SIGKILL)
        self.coordinator.wait()

    def add_worker(self):
        index = len(self.workers)
        port = free_port()
        self.worker_metrics_ports.append(port)
        with self.log("worker-%d" % index) as log:
            self.workers.append(subprocess.Popen(
                [runfile("worker/simclr-worker"), "--coordinator=" + self.address,
                 "--metrics_listen=127.0.0.1:%d" % port,
                 "--work_dir=" + os.path.join(self.tmp, "worker-%d" % index),
                 "--threads=%d" % self.threads] + self.worker_args,
                stdout=log, stderr=subprocess.STDOUT))

    def _worker_log_values(self, index, marker):
        """The word after `marker` on each line of worker `index`'s log."""
        with open(os.path.join(self.tmp, "worker-%d.log" % index), errors="replace") as f:
            return [line.split(marker)[1].split()[0].rstrip(",;") for line in f if marker in line]

    def worker_index(self, worker_id):
        """The index of the live worker process that registered as `worker_id`."""
        for i, proc in enumerate(self.workers):
            ids = self._worker_log_values(i, "registered as ")
            if ids and ids[-1] == worker_id and proc.poll() is None:
                return i
        raise AssertionError("no live process registered as " + worker_id)

    def kill_worker(self, worker_id):
        """SIGKILLs the process that registered as `worker_id`."""
        proc = self.workers[self.worker_index(worker_id)]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def trainer_pid(self, worker_id):
        """The pid of the newest trainer process that worker `worker_id` started."""
        pids = self._worker_log_values(self.worker_index(worker_id), "in trainer pid ")
        if not pids:
            raise AssertionError("worker %s started no trainer" % worker_id)
        return int(pids[-1])

    def close(self):
        for p in self.workers + [self.coordinator]:
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()

    def ctl(self, *args, stdin=None, check=True):
        result = subprocess.run([runfile("client/simclrctl"), "--coordinator=" + self.address] +
                                self.ctl_args + list(args), input=stdin, capture_output=True,
                                text=True, timeout=600)
        if check and result.returncode != 0:
            raise AssertionError("simclrctl %s failed (%d): %s%s" % (
                " ".join(args), result.returncode, result.stdout, result.stderr))
        return result

    def submit(self, yaml_text):
        return self.ctl("submit", "-f", "-", stdin=yaml_text).stdout.split()

    def get(self, what, name=None):
        """The API object as `-o json` prints it, with its 64-bit integers
        (strings in protobuf's JSON mapping) read back as ints; for "jobs" and
        "workers", the list inside the list response."""
        args = ["get", what] + ([name] if name else []) + ["-o", "json"]
        doc = json.loads(self.ctl(*args).stdout, object_hook=int64_fields_as_ints)
        return doc.get(what, []) if what in ("jobs", "workers") else doc

    def job(self, name):
        return self.get("job", name)

    def watch(self, name, timeout=600):
        return subprocess.run([runfile("client/simclrctl"), "--coordinator=" + self.address] +
                              self.ctl_args + ["watch", name], capture_output=True, text=True,
                              timeout=timeout)

    def logs(self):
        out = []
        for name in sorted(os.listdir(self.tmp)):
            if name.endswith(".log"):
                with open(os.path.join(self.tmp, name), errors="replace") as f:
                    out.append("=== %s\n%s" % (name, f.read()[-3000:]))
        return "\n".join(out)


class ClusterTestCase(unittest.TestCase):
    """Test cases sharing one cluster of WORKERS workers, started once per class."""
    WORKERS = 2

    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster(workers=cls.WORKERS)

    @classmethod
    def tearDownClass(cls):
        cls.cluster.close()


def main():
    """Runs the caller's unittest cases; writes JUnit XML for Bazel when asked."""
    sys.exit(0 if junit_runner.run(sys.modules["__main__"], "python") else 1)
