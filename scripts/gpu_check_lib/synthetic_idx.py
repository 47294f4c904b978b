#!/usr/bin/env python3
"""Writes a small learnable stand-in for Fashion-MNIST (same IDX/gzip files,
same 28x28 grey images and 10 classes) for machines without the dataset.

Each class is a grating: one of 5 orientations (0 to 90 degrees, so that a
horizontal flip never turns one class into another) times 2 periods (5 and
12 pixels); an image is its class's grating at a random phase, plus noise.
Gratings survive the shifts, crops and flips of augmentation, which
pixel-noise templates do not, so a network that learns anything separates
the classes above chance (10%): a run on this data checks that training
works, not how well.

    synthetic_idx.py DIR [--train N] [--test N] [--seed S]
"""
import argparse
import gzip
import math
import os
import random
import struct


def write_idx(path, magic, dims, payload):
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(struct.pack(">I", magic))
        for d in dims:
            f.write(struct.pack(">I", d))
        f.write(payload)


def images(count, rng):
    pixels = bytearray()
    labels = bytearray()
    for _ in range(count):
        label = rng.randrange(10)
        angle = math.radians(22.5 * (label % 5))
        period = 5.0 if label < 5 else 12.0
        kx, ky = math.cos(angle) / period, math.sin(angle) / period
        phase = rng.random()
        for y in range(28):
            for x in range(28):
                wave = 0.5 + 0.5 * math.sin(2 * math.pi * (kx * x + ky * y + phase))
                pixels.append(int(255 * (0.75 * wave + 0.25 * rng.random())))
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
    os.makedirs(args.dir, exist_ok=True)
    for prefix, count in (("train", args.train), ("t10k", args.test)):
        pixels, labels = images(count, rng)
        write_idx(os.path.join(args.dir, prefix + "-images-idx3-ubyte.gz"), 2051,
                  (count, 28, 28), pixels)
        write_idx(os.path.join(args.dir, prefix + "-labels-idx1-ubyte.gz"), 2049,
                  (count,), labels)


if __name__ == "__main__":
    main()
