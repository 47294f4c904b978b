"""The example job files (examples/*.yaml, examples/ablations/*.yaml) are
accepted as a whole by a real coordinator, and the distillation chain
resolves as the paper's: pretrain ->
fine-tune -> self-distillation (the teacher's architecture) -> a smaller
student taught by the self-distilled network.
"""
import glob
import os
import unittest

from cluster import Cluster, runfile


class ExamplesTest(unittest.TestCase):
    def submitted(self, path):
        with open(path) as f:
            text = f.read()
        with Cluster(workers=0) as c:
            ids = c.submit(text)
            jobs = {j["spec"]["name"]: j for j in c.get("jobs")}
        self.assertEqual(len(ids), text.count("\nkind: ") + text.startswith("kind: "), path)
        return jobs

    def test_every_example_is_accepted(self):
        root = os.path.dirname(runfile("examples/fmnist-pipeline.yaml"))
        examples = (glob.glob(os.path.join(root, "*.yaml")) +
                    glob.glob(os.path.join(root, "ablations", "*.yaml")))
        self.assertGreaterEqual(len(examples), 3)
        for path in examples:
            with self.subTest(path=os.path.basename(path)):
                self.assertTrue(self.submitted(path))

    def test_the_distillation_chain_is_the_papers(self):
        jobs = self.submitted(runfile("examples/fmnist-distill-chain.yaml"))
        pretrain = jobs["fmnist-chain-pretrain"]
        finetune = jobs["fmnist-chain-finetune-10pct"]
        self_distill = jobs["fmnist-chain-self-distill"]
        student = jobs["fmnist-chain-student"]
        self.assertEqual(finetune["parent_id"], pretrain["id"])
        self.assertEqual(self_distill["spec"]["teacher"], "fmnist-chain-finetune-10pct")
        self.assertEqual(student["spec"]["teacher"], "fmnist-chain-self-distill")
        # Self-distillation keeps the teacher's network; the student is smaller.
        self.assertEqual(self_distill["spec"]["model"], finetune["spec"]["model"])
        self.assertLess(student["spec"]["model"]["width_multiplier"],
                        self_distill["spec"]["model"]["width_multiplier"])
        # Every job holds out the pretraining's validation set; the student's
        # label loss sees the fine-tuning's 10% only.
        for job in (finetune, self_distill, student):
            self.assertEqual(int(job["spec"]["data"]["validation_examples"]), 5000, job["spec"]["name"])
        self.assertEqual(student["spec"]["data"]["label_fraction"], 0.1)
        self.assertEqual(student["spec"]["train"]["seed"], finetune["spec"]["train"]["seed"])
        self.assertNotIn("label_fraction", self_distill["spec"]["data"])
        # Each waits for the one before it.
        for job in (finetune, self_distill, student):
            self.assertEqual(job["state"], "PENDING", job["spec"]["name"])


if __name__ == "__main__":
    import cluster
    cluster.main()
