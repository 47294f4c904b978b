"""Writes torch.save files (and the values they hold) for pth_reader_test.

Usage: make_pth.py OUT_DIR

For every FILE.pth it writes FILE.expected: one line per tensor leaf,
"<dotted name> <dtype> <rank> <dims...> <values...>" with values as repr()
of float(x) in row-major order of the (possibly non-contiguous) tensor.
"""
import os
import sys
import zipfile

import torch


def flatten(obj, prefix, out):
    if isinstance(obj, torch.Tensor):
        out.append((prefix, obj))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            flatten(v, f"{prefix}.{i}" if prefix else str(i), out)


def save(obj, out_dir, name):
    path = os.path.join(out_dir, name + ".pth")
    torch.save(obj, path)
    leaves = []
    flatten(obj, "", leaves)
    with open(os.path.join(out_dir, name + ".expected"), "w") as f:
        for leaf_name, t in leaves:
            dtype = str(t.dtype).replace("torch.", "")
            values = [repr(float(x)) for x in t.detach().reshape(-1).tolist()]
            f.write(" ".join([leaf_name, dtype, str(t.dim())] +
                             [str(d) for d in t.shape] + values) + "\n")
    return path


def main():
    out_dir = sys.argv[1]
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(4 * 3 * 3, 2))
    net.train()
    net(torch.randn(5, 3, 5, 5))  # non-trivial running stats, num_batches_tracked = 1
    sd_path = save(net.state_dict(), out_dir, "state_dict")

    head = torch.nn.Sequential(torch.nn.Linear(3, 2, bias=False), torch.nn.BatchNorm1d(2))
    save({"resnet": net.state_dict(), "head": head.state_dict()}, out_dir, "nested")

    base = torch.arange(20, dtype=torch.float32).reshape(4, 5) / 7
    save({
        "view": base[1:, 2:],
        "base": base,
        "transposed": base.t(),
        "bf16": torch.tensor([1.5, -2.25, 3e-3]).to(torch.bfloat16),
        "f64": torch.tensor([1.0 / 3.0, -7.0], dtype=torch.float64),
        "i32": torch.tensor([-5, 2**31 - 1], dtype=torch.int32),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "half": torch.tensor([0.5, -1.0], dtype=torch.float16),
        "flags": torch.tensor([True, False]),
        "scalar": torch.tensor(4.25),
        "empty": torch.zeros(0, 3),
        "param": torch.nn.Parameter(torch.full((2,), 0.75)),
    }, out_dir, "views")

    torch.save({"epoch": 5, "lr": 0.1, "name": "r50", "flags": [True, False, None],
                "big": 2**40, "neg": -3, "mid": 40000, "wide": -2**31 - 5, "pair": (1, 2),
                "by_index": {0: torch.ones(1), 1: torch.zeros(1)}},
               os.path.join(out_dir, "misc.pth"))

    # Malformed archives.
    with open(sd_path, "rb") as f:
        good = f.read()
    with open(os.path.join(out_dir, "truncated.pth"), "wb") as f:
        f.write(good[: len(good) // 2])
    with zipfile.ZipFile(os.path.join(out_dir, "garbage_pickle.pth"), "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00(X\xff\xff\xff\x7fabc")
        z.writestr("archive/version", b"3\n")
    with zipfile.ZipFile(sd_path) as src, \
            zipfile.ZipFile(os.path.join(out_dir, "missing_storage.pth"), "w") as dst:
        for info in src.infolist():
            if not info.filename.endswith("/data/0"):
                dst.writestr(info.filename, src.read(info.filename))


if __name__ == "__main__":
    main()
