"""Writes a small SimCLRv2 checkpoint in the public PyTorch port's layout.

The modules below follow the port's state_dict names (torch.nn.Sequential /
ModuleList positions; see NOTE [checkpoint names] in model/nn/resnet.h):
`net.*` and `fc.*` for the encoder, `layers.*` for the contrastive head,
saved as torch.save({'resnet': ..., 'head': ...}). Every parameter and buffer
gets seeded random values, then the script records the eval-mode outputs on a
fixed input.

Usage: make_simclrv2.py OUT_DIR DEPTH WIDTH SK(0|1) HEAD_LAYERS NUM_CLASSES
Writes OUT_DIR/model.pth and OUT_DIR/io.txt with three lines of floats:
the input [2,3,64,64], the encoder features, the head's last output, then
(with NUM_CLASSES > 0) a fourth line: fc(features).
"""
import os
import sys

import torch
import torch.nn as nn

SK_RATIO = 0.0625


def conv(cin, cout, k, stride=1):
    return nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, bias=False)


def bnr(c, relu=True):
    return nn.Sequential(nn.BatchNorm2d(c, eps=1e-5), nn.ReLU() if relu else nn.Identity())


class SelectiveKernel(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        s = max(int(cout * SK_RATIO), 32)
        self.main_conv = nn.Sequential(conv(cin, 2 * cout, 3, stride), bnr(2 * cout))
        self.mixing_conv = nn.Sequential(conv(cout, s, 1), bnr(s), conv(s, 2 * cout, 1))

    def forward(self, x):
        paths = torch.stack(self.main_conv(x).chunk(2, dim=1))
        squeeze = paths.sum(0).mean((2, 3), keepdim=True)
        attention = torch.softmax(torch.stack(self.mixing_conv(squeeze).chunk(2, dim=1)), 0)
        return (paths * attention).sum(0)


class Projection(nn.Module):
    def __init__(self, cin, cout, stride, sk):
        super().__init__()
        if sk:
            self.shortcut = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)),
                                          nn.AvgPool2d(2, stride), conv(cin, cout, 1))
        else:
            self.shortcut = conv(cin, cout, 1, stride)
        self.bn = bnr(cout, relu=False)

    def forward(self, x):
        return self.bn(self.shortcut(x))


class Bottleneck(nn.Module):
    def __init__(self, cin, w, stride, sk, projection):
        super().__init__()
        self.projection = Projection(cin, 4 * w, stride, sk) if projection else None
        middle = [SelectiveKernel(w, w, stride)] if sk else [conv(w, w, 3, stride), bnr(w)]
        self.net = nn.Sequential(conv(cin, w, 1), bnr(w), *middle,
                                 conv(w, 4 * w, 1), bnr(4 * w, relu=False))

    def forward(self, x):
        shortcut = self.projection(x) if self.projection is not None else x
        return torch.relu(shortcut + self.net(x))


class Blocks(nn.Module):
    def __init__(self, n, cin, w, stride, sk):
        super().__init__()
        self.blocks = nn.ModuleList(
            [Bottleneck(cin if i == 0 else 4 * w, w, stride if i == 0 else 1, sk, i == 0)
             for i in range(n)])

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return x


class ResNet(nn.Module):
    def __init__(self, depth, width, sk, num_classes):
        super().__init__()
        layers = {50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}[depth]
        c = max(1, round(64 * width))
        if sk:
            h = max(1, round(c / 2))
            stem = nn.Sequential(conv(3, h, 3, 2), bnr(h), conv(h, h, 3), bnr(h),
                                 conv(h, c, 3), bnr(c), nn.MaxPool2d(3, 2, 1))
        else:
            stem = nn.Sequential(conv(3, c, 7, 2), bnr(c), nn.MaxPool2d(3, 2, 1))
        stages, cin = [stem], c
        for i, n in enumerate(layers):
            w = max(1, round(64 * 2**i * width))
            stages.append(Blocks(n, cin, w, 1 if i == 0 else 2, sk))
            cin = 4 * w
        self.net = nn.Sequential(*stages)
        self.features = cin
        self.fc = nn.Linear(cin, num_classes) if num_classes else None

    def forward(self, x):
        return self.net(x).mean((2, 3))


class ContrastiveHead(nn.Module):
    def __init__(self, channels, num_layers, out_dim=128):
        super().__init__()
        self.layers = nn.ModuleList()
        for i in range(num_layers):
            last = i == num_layers - 1
            dim = out_dim if last else channels
            self.layers.append(nn.Linear(channels, dim, bias=False))
            bn = nn.BatchNorm1d(dim, eps=1e-5)
            if last:
                nn.init.zeros_(bn.bias)  # the port's last BN has an untrained zero beta
                bn.bias.requires_grad = False
            self.layers.append(bn)
            if not last:
                self.layers.append(nn.ReLU())

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def main():
    out_dir, depth, width, sk, head_layers, num_classes = sys.argv[1:7]
    torch.manual_seed(1)
    resnet = ResNet(int(depth), float(width), sk == "1", int(num_classes))
    head = ContrastiveHead(resnet.features, int(head_layers), out_dim=16)
    for module in (resnet, head):
        for name, p in module.state_dict().items():
            if name.endswith("num_batches_tracked"):
                p.fill_(7)
            elif name.endswith("running_var"):
                p.uniform_(0.5, 1.5)
            elif name == f"layers.{3 * (int(head_layers) - 1) + 1}.bias":
                pass  # stays zero
            elif name.endswith("bias") or name.endswith("running_mean"):
                p.uniform_(-0.2, 0.2)
            elif p.dim() == 1:
                p.uniform_(0.8, 1.2)  # BN gamma
            else:
                fan_in = p[0].numel()
                p.normal_(0.0, (2.0 / fan_in) ** 0.5)
    resnet.eval()
    head.eval()
    torch.save({"resnet": resnet.state_dict(), "head": head.state_dict()},
               os.path.join(out_dir, "model.pth"))
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        features = resnet(x)
        rows = [x, features, head(features)]
        if resnet.fc is not None:
            rows.append(resnet.fc(features))
    with open(os.path.join(out_dir, "io.txt"), "w") as f:
        for t in rows:
            f.write(" ".join(repr(v) for v in t.reshape(-1).tolist()) + "\n")


if __name__ == "__main__":
    main()
