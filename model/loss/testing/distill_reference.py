"""Float64 distillation-loss reference with PyTorch's own loss functions.

usage: distill_reference.py DIR TEMPERATURE LABEL_WEIGHT
reads DIR/student, DIR/teacher, DIR/labels (class indices stored as float64);
writes DIR/loss and DIR/grad_student.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_io import read_tensor, write_tensor  # noqa: E402


def main():
    out_dir, tau, w = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    student = read_tensor(os.path.join(out_dir, "student")).requires_grad_(True)
    teacher = read_tensor(os.path.join(out_dir, "teacher"))
    labels = read_tensor(os.path.join(out_dir, "labels")).long()
    # Soft-target cross-entropy: KL(p_T || p_S) + H(p_T), H independent of s.
    p_t = F.softmax(teacher / tau, dim=1)
    log_p_s = F.log_softmax(student / tau, dim=1)
    distill = F.kl_div(log_p_s, p_t, reduction="batchmean") - \
        (p_t * p_t.log()).sum(1).mean()
    loss = (1 - w) * distill + w * F.cross_entropy(student, labels)
    loss.backward()
    write_tensor(os.path.join(out_dir, "loss"), loss)
    write_tensor(os.path.join(out_dir, "grad_student"), student.grad)


if __name__ == "__main__":
    main()
