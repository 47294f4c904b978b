#!/usr/bin/env python3
"""Writes a small learnable stand-in for Fashion-MNIST (same IDX/gzip files,
same 28x28 grey images and 10 classes) for machines without the dataset.

Each class is a fixed random template; an image is its class's template,
shifted by up to 3 pixels, plus noise. A network that learns anything
separates the classes well above chance (10%), so a run on this data checks
that training works, not how well.

    synthetic_idx.py DIR [--train N] [--test N] [--seed S]
"""
import argparse
import gzip
import os
import random
import struct


def write_idx(path, magic, dims, payload):
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(struct.pack(">I", magic))
        for d in dims:
            f.write(struct.pack(">I", d))
        f.write(payload)


def images(count, templates, rng):
    pixels = bytearray()
    labels = bytearray()
    for _ in range(count):
        label = rng.randrange(10)
        dy, dx = rng.randint(-3, 3), rng.randint(-3, 3)
        template = templates[label]
        for y in range(28):
            for x in range(28):
                sy, sx = min(max(y + dy, 0), 27), min(max(x + dx, 0), 27)
                value = 0.7 * template[sy * 28 + sx] + 0.3 * rng.random() * 255
                pixels.append(int(value))
        labels.append(label)
    return bytes(pixels), bytes(labels)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--train", type=int, default=4096)
    parser.add_argument("--test", type=int, default=512)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    templates = [[rng.random() * 255 for _ in range(28 * 28)] for _ in range(10)]
    os.makedirs(args.dir, exist_ok=True)
    for prefix, count in (("train", args.train), ("t10k", args.test)):
        pixels, labels = images(count, templates, rng)
        write_idx(os.path.join(args.dir, prefix + "-images-idx3-ubyte.gz"), 2051,
                  (count, 28, 28), pixels)
        write_idx(os.path.join(args.dir, prefix + "-labels-idx1-ubyte.gz"), 2049,
                  (count,), labels)


if __name__ == "__main__":
    main()
