"""Float64 distillation-loss reference with PyTorch's own loss functions.

usage: distill_reference.py DIR TEMPERATURE LABEL_WEIGHT
reads DIR/student, DIR/teacher, DIR/labels (class indices stored as float64;
-1 marks an unlabelled image); writes DIR/loss and DIR/grad_student.

The soft-target term is scaled by tau^2, as in SimCLRv2's distillation code
(and Hinton et al. 2015), so its gradients keep their size across
temperatures; the label term is the cross-entropy over the labelled images
only (the paper's Eq. 3), 0 when the batch has none.
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
    distill = (F.kl_div(log_p_s, p_t, reduction="batchmean") -
               (p_t * p_t.log()).sum(1).mean()) * tau * tau
    if (labels >= 0).any():
        ce = F.cross_entropy(student, labels, ignore_index=-1)
    else:
        ce = student.sum() * 0.0
    loss = (1 - w) * distill + w * ce
    loss.backward()
    write_tensor(os.path.join(out_dir, "loss"), loss)
    write_tensor(os.path.join(out_dir, "grad_student"), student.grad)


if __name__ == "__main__":
    main()
