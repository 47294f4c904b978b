"""Fault tolerance of a gang: a worker is killed in the middle of a world
size 2 job; the coordinator restarts the whole gang on the surviving
workers from the latest checkpoint, and the resumed run repeats the steps
after that checkpoint exactly (same weights, optimizer state, data order,
and, for a job with a memory of negatives, the same memory and key network).
"""
import unittest

import time

from cluster import (Cluster, assert_same_as_undisturbed, follow_recovery, step_log,
                     tiny_pretrain, wait_until)

def spec(name, memory_size=0):
    return tiny_pretrain(name, 40, max_restarts=1, train_examples=4096, base_lr=1.0, seed=9,
                         checkpoint_every=4, memory_size=memory_size)


class RestartTest(unittest.TestCase):
    def test_gang_restarts_from_its_checkpoint_and_replays_the_same_steps(self):
        self.kill_resume_and_compare(memory_size=0)

    # The memory of negatives (256 embeddings: the last 4 steps' 2 x 32
    # views) and its key network are in the checkpoint: without them the
    # resumed steps would see an empty memory and differ.
    def test_a_memory_of_negatives_survives_the_restart(self):
        self.kill_resume_and_compare(memory_size=256)

    def kill_resume_and_compare(self, memory_size):
        with Cluster(workers=3) as c:
            c.submit(spec("resilient", memory_size))
            first = wait_until(
                lambda: (lambda j: j if j["checkpoint"] and j["progress"]["step"] >= 6 else None)(
                    c.job("resilient")), 180, "a checkpoint and 6 steps")
            c.kill_worker(first["workers"][1])
            job = follow_recovery(self, c, "resilient", "a gang's worker SIGKILLed",
                                  time.monotonic())
            self.assertEqual(job["attempts"], 2)
            self.assertNotIn(first["workers"][1], job["workers"])
            self.assertEqual(job["progress"]["step"], 40)

            log = step_log(job)
            self.assertEqual(sorted({s["step"] for s in log}), list(range(1, 41)))
            # Where attempt 2 repeated steps, it started right after a
            # checkpoint, not from scratch.
            for i in range(1, len(log)):
                if log[i]["step"] <= log[i - 1]["step"]:
                    self.assertGreater(log[i]["step"], 1, "attempt 2 started from scratch")
                    self.assertEqual((log[i]["step"] - 1) % 4, 0, "resumed at %r" % log[i])
            if memory_size:
                self.assertEqual(job["metrics"]["memory_size"], memory_size)
            assert_same_as_undisturbed(self, c, spec("reference", memory_size), log)


if __name__ == "__main__":
    import cluster
    cluster.main()
