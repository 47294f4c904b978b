"""Independent reading of a Fashion-MNIST IDX gzip pair, for fashion_mnist_test.

Usage: idx_checksum.py IMAGES.gz LABELS.gz OUT
Writes one line: count rows cols pixel_sum weighted_sum label_weighted_sum
where weighted_sum = sum(pixel[i] * (i % 1000 + 1)) over the flat pixel bytes
and label_weighted_sum = sum(label[i] * (i + 1)).
"""
import gzip
import struct
import sys

import numpy as np


def main():
    with gzip.open(sys.argv[1], "rb") as f:
        data = f.read()
    magic, count, rows, cols = struct.unpack(">IIII", data[:16])
    assert magic == 0x803, magic
    pixels = data[16:]
    assert len(pixels) == count * rows * cols
    values = np.frombuffer(pixels, dtype=np.uint8).astype(np.int64)
    pixel_sum = int(values.sum())
    weighted = int((values * (np.arange(values.size, dtype=np.int64) % 1000 + 1)).sum())
    with gzip.open(sys.argv[2], "rb") as f:
        labels = f.read()
    magic, n = struct.unpack(">II", labels[:8])
    assert magic == 0x801 and n == count
    label_values = np.frombuffer(labels[8:], dtype=np.uint8).astype(np.int64)
    label_weighted = int((label_values * np.arange(1, n + 1, dtype=np.int64)).sum())
    with open(sys.argv[3], "w") as f:
        f.write(f"{count} {rows} {cols} {pixel_sum} {weighted} {label_weighted}\n")


if __name__ == "__main__":
    main()
