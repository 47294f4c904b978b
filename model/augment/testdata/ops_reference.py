"""Reference outputs of torchvision's functional ops for image_ops_test.

Usage: ops_reference.py INPUT OUTPUT
INPUT holds three int32 (C, H, W) then C*H*W float32 pixels; OUTPUT receives,
for each case below in order, the float32 pixels of torchvision's result.
"""
import struct
import sys

import numpy as np
import torch
import torchvision.transforms.functional as F


def main():
    with open(sys.argv[1], "rb") as f:
        c, h, w = struct.unpack("<3i", f.read(12))
        img = torch.from_numpy(np.frombuffer(f.read(), dtype="<f4").copy()).reshape(c, h, w)
    gray1 = img[:1].clone()
    cases = [
        F.adjust_brightness(img, 1.3),
        F.adjust_brightness(img, 0.45),
        F.adjust_contrast(img, 0.6),
        F.adjust_contrast(img, 1.5),
        F.adjust_contrast(gray1, 1.7),
        F.adjust_saturation(img, 0.4),
        F.adjust_saturation(img, 1.7),
        F.adjust_hue(img, 0.15),
        F.adjust_hue(img, -0.37),
        F.rgb_to_grayscale(img, num_output_channels=3),
        F.gaussian_blur(img, [5, 5], [1.3, 1.3]),
        F.gaussian_blur(img, [3, 3], [0.4, 0.4]),
        F.resized_crop(img, 2, 3, 11, 15, [19, 21], antialias=False),
        F.resized_crop(img, 1, 4, 14, 17, [7, 9], antialias=False),
        F.hflip(img),
    ]
    with open(sys.argv[2], "wb") as f:
        for out in cases:
            f.write(out.contiguous().numpy().astype("<f4").tobytes())


if __name__ == "__main__":
    main()
