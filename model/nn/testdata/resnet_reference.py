"""Independent PyTorch reference for model/nn (resnet_reference_test.cc).

Builds SimCLRv2 encoders and projection heads laid out as the public PyTorch
port of the SimCLRv2 checkpoints names them (torch.nn.Sequential / ModuleList
positions; see NOTE [checkpoint names] in model/nn/resnet.h), fills every
parameter and buffer with seeded random values, runs a forward pass in eval
and in train mode, and writes for each configuration:

  <out>/<name>/manifest.txt   one line per tensor: "<key> <ndim> <dims...>",
                              keys "resnet/<state_dict key>" or "head/<key>",
                              then "input", "features_eval", "features_train",
                              "head_eval" (the head's last output, eval mode)
  <out>/<name>/tensors.bin    the tensors in manifest order, float32, C order
  <out>/<name>/meta.txt       "<encoder_params> <encoder_macs> <head_params>"

Usage: resnet_reference.py OUT_DIR
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-5

CONFIGS = [
    # name, depth, width, sk_ratio, in_channels, image_size, batch, head_layers, proj_dim
    ("r18_small", 18, 0.125, 0.0, 3, 32, 4, 3, 16),
    ("r50_sk_small", 50, 0.125, 0.0625, 3, 32, 4, 2, 8),
    ("r50_imagenet", 50, 0.125, 0.0, 1, 72, 2, 1, 8),
    ("r34_sk_imagenet", 34, 0.25, 0.0625, 3, 72, 2, 0, 8),
    ("r50_sk_imagenet_odd", 50, 0.125, 0.0625, 3, 75, 2, 3, 8),
]


def channels(base, width):
    return max(1, int(round(base * width)))


def conv(cin, cout, k, stride=1):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=(k - 1) // 2, bias=False)


def bn_relu(c, relu=True):
    return nn.Sequential(nn.BatchNorm2d(c, eps=EPS), nn.ReLU() if relu else nn.Identity())


class SK(nn.Module):
    def __init__(self, cin, cout, stride, ratio):
        super().__init__()
        squeeze = max(int(cout * ratio), 32)
        self.main_conv = nn.Sequential(conv(cin, 2 * cout, 3, stride), bn_relu(2 * cout))
        self.mixing_conv = nn.Sequential(conv(cout, squeeze, 1), bn_relu(squeeze),
                                         conv(squeeze, 2 * cout, 1))

    def forward(self, x):
        a, b = self.main_conv(x).chunk(2, dim=1)
        g = (a + b).mean(dim=(2, 3), keepdim=True)
        la, lb = self.mixing_conv(g).chunk(2, dim=1)
        w = torch.softmax(torch.stack([la, lb]), dim=0)
        return a * w[0] + b * w[1]


class Shortcut(nn.Module):
    def __init__(self, cin, cout, stride, ratio):
        super().__init__()
        if ratio > 0:
            self.shortcut = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)),
                                          nn.AvgPool2d(2, stride), conv(cin, cout, 1))
        else:
            self.shortcut = conv(cin, cout, 1, stride)
        self.bn = bn_relu(cout, relu=False)

    def forward(self, x):
        return self.bn(self.shortcut(x))


class Block(nn.Module):
    def __init__(self, cin, width, stride, ratio, bottleneck, projection):
        super().__init__()
        cout = 4 * width if bottleneck else width
        if projection:
            self.projection = Shortcut(cin, cout, stride, ratio)
        else:
            self.projection = None
        if bottleneck:
            mid = [SK(width, width, stride, ratio)] if ratio > 0 else [
                conv(width, width, 3, stride), bn_relu(width)]
            self.net = nn.Sequential(conv(cin, width, 1), bn_relu(width), *mid,
                                     conv(width, cout, 1), bn_relu(cout, relu=False))
        else:
            self.net = nn.Sequential(conv(cin, width, 3, stride), bn_relu(width),
                                     conv(width, width, 3), bn_relu(width, relu=False))

    def forward(self, x):
        s = x if self.projection is None else self.projection(x)
        return F.relu(s + self.net(x))


class Stage(nn.Module):
    def __init__(self, n, cin, width, stride, ratio, bottleneck):
        super().__init__()
        cout = 4 * width if bottleneck else width
        self.blocks = nn.ModuleList(
            [Block(cin if i == 0 else cout, width, stride if i == 0 else 1, ratio,
                   bottleneck, i == 0) for i in range(n)])

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return x


class Encoder(nn.Module):
    def __init__(self, depth, width, ratio, cin, image_size):
        super().__init__()
        counts = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3],
                  101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}[depth]
        bottleneck = depth >= 50
        c = channels(64, width)
        if image_size <= 64:
            stem = nn.Sequential(conv(cin, c, 3), bn_relu(c))
        elif ratio > 0:
            h = max(1, (c + 1) // 2)
            stem = nn.Sequential(conv(cin, h, 3, 2), bn_relu(h), conv(h, h, 3), bn_relu(h),
                                 conv(h, c, 3), bn_relu(c), nn.MaxPool2d(3, 2, 1))
        else:
            stem = nn.Sequential(conv(cin, c, 7, 2), bn_relu(c), nn.MaxPool2d(3, 2, 1))
        layers = [stem]
        for s in range(4):
            w = channels(64 << s, width)
            layers.append(Stage(counts[s], c, w, 1 if s == 0 else 2, ratio, bottleneck))
            c = 4 * w if bottleneck else w
        self.net = nn.Sequential(*layers)
        self.features = c

    def forward(self, x):
        return self.net(x).mean(dim=(2, 3))


class Head(nn.Module):
    def __init__(self, cin, num_layers, out_dim):
        super().__init__()
        self.layers = nn.ModuleList()
        for i in range(num_layers):
            last = i == num_layers - 1
            dim = out_dim if last else cin
            self.layers.append(nn.Linear(cin, dim, bias=False))
            self.layers.append(nn.BatchNorm1d(dim, eps=EPS))
            if not last:
                self.layers.append(nn.ReLU())
        self.num_layers = num_layers

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def randomize(module, gen):
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
            elif name.endswith("weight"):
                p.copy_(torch.rand(p.shape, generator=gen) + 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
        for name, b in module.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=gen) * 0.1)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=gen) + 0.5)
            elif name.endswith("num_batches_tracked"):
                b.fill_(7)


def macs(encoder, x):
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1]
            total[0] += out[0].numel() * k * m.in_channels // m.groups
        elif isinstance(m, nn.Linear):
            total[0] += m.in_features * m.out_features

    handles = [m.register_forward_hook(hook) for m in encoder.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    encoder(x[:1])
    for h in handles:
        h.remove()
    return total[0]


def main():
    out_root = sys.argv[1]
    torch.set_num_threads(1)
    for (name, depth, width, ratio, cin, size, batch, head_layers, proj_dim) in CONFIGS:
        gen = torch.Generator().manual_seed(1234)
        enc = Encoder(depth, width, ratio, cin, size)
        head = Head(enc.features, head_layers, proj_dim)
        randomize(enc, gen)
        randomize(head, gen)
        last_bn = head.layers[-1] if head_layers else None
        if last_bn is not None:
            with torch.no_grad():
                last_bn.bias.zero_()  # the port's last BN: a zero, untrained beta
        x = torch.randn(batch, cin, size, size, generator=gen)
        # Clones: state_dict() shares storage, and the train-mode pass below
        # updates the running statistics in place.
        tensors = [("resnet/" + k, v.clone()) for k, v in enc.state_dict().items()]
        tensors += [("head/" + k, v.clone()) for k, v in head.state_dict().items()]
        tensors.append(("input", x))
        with torch.no_grad():
            enc.eval()
            head.eval()
            feats = enc(x)
            tensors.append(("features_eval", feats))
            tensors.append(("head_eval", head(feats)))
            enc.train()
            tensors.append(("features_train", enc(x)))
            enc.eval()
            n_macs = macs(enc, x)
        d = os.path.join(out_root, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "manifest.txt"), "w") as manifest, \
                open(os.path.join(d, "tensors.bin"), "wb") as data:
            for key, t in tensors:
                t = t.detach().to(torch.float32).contiguous()
                manifest.write(" ".join([key, str(t.dim())] + [str(s) for s in t.shape]) + "\n")
                data.write(t.numpy().tobytes())
        n_enc = sum(p.numel() for p in enc.parameters())
        # The port's last head BN has a beta that is never trained: not counted.
        n_head = sum(p.numel() for p in head.parameters())
        if last_bn is not None:
            n_head -= last_bn.bias.numel()
        with open(os.path.join(d, "meta.txt"), "w") as meta:
            meta.write(f"{n_enc} {n_macs} {n_head}\n")


if __name__ == "__main__":
    main()
