"""Tensor files shared with model/loss/testing/reference_io.h (see there)."""
import numpy as np
import torch


def read_tensor(path):
    with open(path, "rb") as f:
        header = f.readline().decode("ascii").split()
        dims = [int(d) for d in header]
        data = np.frombuffer(f.read(), dtype="<f8").copy()
    return torch.from_numpy(data).reshape(dims)


def write_tensor(path, tensor):
    t = tensor.detach().to(torch.float64).contiguous()
    with open(path, "wb") as f:
        f.write((" ".join(str(d) for d in t.shape) + "\n").encode("ascii"))
        f.write(t.numpy().astype("<f8").tobytes())
