"""Float64 NT-Xent reference, written the way the official SimCLR code lays it
out (logits_ab/logits_aa blocks, a large negative on the diagonal, softmax
cross-entropy against one-hot labels), independent of the C++ formulation.

usage: nt_xent_reference.py DIR TEMPERATURE [with_queue]
reads DIR/z1, DIR/z2 (and DIR/queue), writes DIR/loss, DIR/grad_z1,
DIR/grad_z2, DIR/accuracy. The loss is the mean over all 2B anchors.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_io import read_tensor, write_tensor  # noqa: E402

LARGE_NUM = 1e9


def main():
    out_dir, temperature = sys.argv[1], float(sys.argv[2])
    with_queue = len(sys.argv) > 3 and sys.argv[3] == "with_queue"
    z1 = read_tensor(os.path.join(out_dir, "z1")).requires_grad_(True)
    z2 = read_tensor(os.path.join(out_dir, "z2")).requires_grad_(True)
    h1 = torch.nn.functional.normalize(z1, dim=1)
    h2 = torch.nn.functional.normalize(z2, dim=1)
    b = h1.shape[0]
    labels = torch.arange(b)
    masks = torch.eye(b, dtype=torch.float64)
    logits_aa = h1 @ h1.T / temperature - masks * LARGE_NUM
    logits_bb = h2 @ h2.T / temperature - masks * LARGE_NUM
    logits_ab = h1 @ h2.T / temperature
    logits_ba = h2 @ h1.T / temperature
    blocks_a = [logits_ab, logits_aa]
    blocks_b = [logits_ba, logits_bb]
    if with_queue:
        q = torch.nn.functional.normalize(
            read_tensor(os.path.join(out_dir, "queue")), dim=1)
        blocks_a.append(h1 @ q.T / temperature)
        blocks_b.append(h2 @ q.T / temperature)
    logits_a = torch.cat(blocks_a, 1)
    logits_b = torch.cat(blocks_b, 1)
    ce = torch.nn.functional.cross_entropy
    loss = 0.5 * (ce(logits_a, labels) + ce(logits_b, labels))
    loss.backward()
    with torch.no_grad():
        correct = (logits_a.argmax(1) == labels).double().sum() + \
            (logits_b.argmax(1) == labels).double().sum()
        accuracy = correct / (2 * b)
    write_tensor(os.path.join(out_dir, "loss"), loss)
    write_tensor(os.path.join(out_dir, "grad_z1"), z1.grad)
    write_tensor(os.path.join(out_dir, "grad_z2"), z2.grad)
    write_tensor(os.path.join(out_dir, "accuracy"), accuracy)


if __name__ == "__main__":
    main()
