"""Writes a small image folder for image_folder_test with PIL.

Usage: make_image_folder.py ROOT
ROOT/bird/a.png, ROOT/bird/b.jpg, ROOT/cat/c.PNG (all 6x8, RGB),
ROOT/cat/big.png (12x16, resized by the reader), ROOT/cat/notes.txt (skipped).
ROOT.expected holds, per image file in label-then-name order, the RGB pixels
PIL decodes (HWC uint8) for the 6x8 files, and the 12x16 file's pixels.
"""
import os
import sys

import numpy as np
from PIL import Image


def main():
    root = sys.argv[1]
    os.makedirs(os.path.join(root, "bird"), exist_ok=True)
    os.makedirs(os.path.join(root, "cat"), exist_ok=True)
    rng = np.random.default_rng(3)
    small = [rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8) for _ in range(3)]
    # Smooth content so JPEG stays close to the source.
    yy, xx = np.mgrid[0:6, 0:8]
    small[1] = np.stack([yy * 30, xx * 25, 100 + yy * 10], axis=-1).astype(np.uint8)
    big = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    Image.fromarray(small[0]).save(os.path.join(root, "bird", "a.png"))
    Image.fromarray(small[1]).save(os.path.join(root, "bird", "b.jpg"), quality=95)
    Image.fromarray(small[2]).save(os.path.join(root, "cat", "c.PNG"))
    Image.fromarray(big).save(os.path.join(root, "cat", "big.png"))
    with open(os.path.join(root, "cat", "notes.txt"), "w") as f:
        f.write("not an image\n")
    # Sorted names in cat/: "big.png" < "c.PNG".
    decoded_jpeg = np.asarray(Image.open(os.path.join(root, "bird", "b.jpg")).convert("RGB"))
    with open(root + ".expected", "wb") as f:
        for pixels in (small[0], decoded_jpeg, big, small[2]):
            f.write(pixels.tobytes())


if __name__ == "__main__":
    main()
