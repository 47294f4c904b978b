#!/usr/bin/env python3
"""One SimCLR pretraining step in PyTorch eager: the baseline that
bench/simclr_step_bench (the C++ model library) races.

The same step, the same shapes: both views of B images as one [2B, C, H, W]
batch through a ResNet (the SimCLRv2 layout of model/nn: small-input stem for
images of at most 64 pixels, a projection on the first block of every stage,
zero-initialised last BN gamma of each block) and a 3-layer projection head
(Linear without bias, BN, ReLU; the last BN without beta; 128 outputs),
NT-Xent at temperature 0.1 with the self-similarity masked, backward, and a
LARS update (momentum 0.9, eta 0.001, weight decay 1e-6; BN parameters and
biases excluded from decay and trust-ratio adaptation). Augmentation is
excluded: the views are fixed random tensors. bf16 means autocast to
bfloat16, as the C++ benchmark does. --compile runs the network through
torch.compile (PyTorch 2.x; the loss and the LARS update stay eager) and
reports the time of the first step, which includes compiling, as
first_step_s.

Flags match bench/simclr_step_bench. --state_in starts from the C++ bench's
--state_out (its initial weights, under its names, and its views), so that
both sides take the same step; the first step's loss is reported as
first_loss. Prints a summary and a line "RESULT {json}" with the median step
time over --steps after --warmup.
"""

import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BLOCKS_PER_STAGE = {
    18: (2, 2, 2, 2),
    34: (3, 4, 6, 3),
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
}
SMALL_INPUT_MAX_SIZE = 64


def scaled(base, width):
    return max(1, int(round(base * width)))


def conv(cin, cout, kernel, stride=1):
    layer = nn.Conv2d(cin, cout, kernel, stride=stride,
                      padding=(kernel - 1) // 2, bias=False)
    nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
    return layer


def bn(channels, zero_gamma=False):
    layer = nn.BatchNorm2d(channels, eps=1e-5)
    if zero_gamma:
        nn.init.zeros_(layer.weight)
    return layer


class Block(nn.Module):
    def __init__(self, cin, width, stride, bottleneck, projection):
        super().__init__()
        out = 4 * width if bottleneck else width
        self.shortcut = (nn.Sequential(conv(cin, out, 1, stride), bn(out))
                         if projection else None)
        if bottleneck:
            layers = [conv(cin, width, 1), bn(width), nn.ReLU(),
                      conv(width, width, 3, stride), bn(width), nn.ReLU(),
                      conv(width, out, 1)]
        else:
            layers = [conv(cin, width, 3, stride), bn(width), nn.ReLU(),
                      conv(width, width, 3)]
        layers.append(bn(out, zero_gamma=True))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        shortcut = x if self.shortcut is None else self.shortcut(x)
        return F.relu(shortcut + self.net(x))


class ResNet(nn.Module):
    def __init__(self, depth, width, in_channels, image_size):
        super().__init__()
        stem = scaled(64, width)
        if image_size <= SMALL_INPUT_MAX_SIZE:
            layers = [conv(in_channels, stem, 3), bn(stem), nn.ReLU()]
        else:
            layers = [conv(in_channels, stem, 7, 2), bn(stem), nn.ReLU(),
                      nn.MaxPool2d(3, 2, 1)]
        bottleneck = depth >= 50
        cin = stem
        for stage, blocks in enumerate(BLOCKS_PER_STAGE[depth]):
            w = scaled(64 << stage, width)
            for i in range(blocks):
                stride = 2 if (stage > 0 and i == 0) else 1
                layers.append(Block(cin, w, stride, bottleneck, i == 0))
                cin = 4 * w if bottleneck else w
        self.net = nn.Sequential(*layers)
        self.num_features = cin

    def forward(self, x):
        return self.net(x).mean((2, 3))


class ProjectionHead(nn.Module):
    def __init__(self, features, layers=3, out_dim=128):
        super().__init__()
        modules = []
        for k in range(1, layers + 1):
            last = k == layers
            dim = out_dim if last else features
            linear = nn.Linear(features, dim, bias=False)
            nn.init.normal_(linear.weight, 0.0, 0.01)
            norm = nn.BatchNorm1d(dim, eps=1e-5)
            if last:
                norm.bias = None  # no beta on the last layer
            modules += [linear, norm] + ([] if last else [nn.ReLU()])
        self.layers = nn.Sequential(*modules)

    def forward(self, h):
        return self.layers(h)


class SimclrNet(nn.Module):
    def __init__(self, depth, width, in_channels, image_size):
        super().__init__()
        self.resnet = ResNet(depth, width, in_channels, image_size)
        self.head = ProjectionHead(self.resnet.num_features)

    def forward(self, x):
        return self.head(self.resnet(x))


def nt_xent(z1, z2, temperature=0.1):
    """Mean over the 2n anchors of -s(a, a+) + logsumexp_{c != a} s(a, c)."""
    n = z1.shape[0]
    anchors = torch.cat([z1, z2], 0)
    anchors = anchors / anchors.norm(dim=1, keepdim=True).clamp_min(1e-12)
    logits = anchors @ anchors.t() / temperature
    index = torch.arange(2 * n, device=anchors.device)
    positive = (index + n) % (2 * n)
    self_mask = torch.zeros_like(logits, dtype=torch.bool)
    self_mask[index, index] = True
    masked = logits.masked_fill(self_mask, float("-inf"))
    per_anchor = (torch.logsumexp(masked, 1) -
                  masked.gather(1, positive[:, None]).squeeze(1))
    with torch.no_grad():
        accuracy = (masked.argmax(1) == positive).float().mean()
    return per_anchor.mean(), accuracy


class Lars:
    """v <- m v + trust lr (g + wd w); w <- w - v. Excluded: trust 1, no wd."""

    def __init__(self, params, momentum=0.9, eta=1e-3, weight_decay=1e-6):
        self.slots = [(p, torch.zeros_like(p), p.dim() < 2) for p in params]
        self.momentum, self.eta, self.weight_decay = momentum, eta, weight_decay

    def zero_grad(self):
        for p, _, _ in self.slots:
            if p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self, lr):
        for p, v, excluded in self.slots:
            if p.grad is None:
                continue
            g = p.grad
            if excluded:
                update = g * lr
            else:
                g = g + self.weight_decay * p
                w_norm, g_norm = p.norm(), g.norm()
                trust = torch.where((w_norm > 0) & (g_norm > 0),
                                    self.eta * w_norm / g_norm,
                                    torch.ones_like(w_norm))
                update = g * (trust * lr)
            v.mul_(self.momentum).add_(update)
            p.sub_(v)


def reference_names(state, net, depth):
    """The C++ bench's state (SimclrModel's names, NOTE [checkpoint names] in
    model/nn/resnet.h) under this file's names: its stem and blocks are one
    flat nn.Sequential, a block's convs and BNs alternate with ReLUs, and a BN
    is not wrapped in a BN+ReLU pair as ours is. The head's names agree."""
    first_block = [next(i for i, m in enumerate(net.resnet.net) if isinstance(m, Block))]
    for count in BLOCKS_PER_STAGE[depth][:-1]:
        first_block.append(first_block[-1] + count)  # each stage's first block
    out = {}
    for name, tensor in state.items():
        p = name.split(".")
        if p[0] == "head":
            key = name
        elif p[2] == "0":  # the stem: resnet.net.0.0 (conv), resnet.net.0.1.0 (its BN)
            key = "resnet.net.0.weight" if p[3] == "0" else "resnet.net.1." + p[-1]
        else:  # resnet.net.<stage>.blocks.<j>.(projection.(shortcut|bn.0)|net.<i>[.0]).<field>
            prefix = "resnet.net.%d." % (first_block[int(p[2]) - 1] + int(p[4]))
            if p[5] == "projection":
                key = prefix + ("shortcut.0." if p[6] == "shortcut" else "shortcut.1.") + p[-1]
            else:  # conv i/2 sits at 3(i/2), the BN after it at 3(i/2) + 1
                i = int(p[6])
                key = prefix + "net.%d.%s" % (3 * (i // 2) + i % 2, p[-1])
        out[key] = tensor
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depth", type=int, default=18,
                        choices=sorted(BLOCKS_PER_STAGE))
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--image_size", type=int, default=28)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--channels_last", action="store_true")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--state_in", help="start from the C++ bench's --state_out (the same "
                        "weights and views): both sides then take the same first step")
    parser.add_argument("--cudnn_benchmark", action="store_true",
                        help="let cuDNN time its algorithms (CUDA)")
    parser.add_argument("--profile", help="after the timed steps, trace one more step with "
                        "torch.profiler and write the Chrome trace here")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the network (PyTorch 2.x)")
    args = parser.parse_args(argv)
    if args.batch < 2 or args.steps < 1 or args.warmup < 0:
        parser.error("need --batch >= 2, --steps >= 1, --warmup >= 0")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device=cuda, but torch sees no CUDA device")

    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    torch.manual_seed(args.seed)
    memory_format = (torch.channels_last if args.channels_last
                     else torch.contiguous_format)
    net = SimclrNet(args.depth, args.width, args.channels, args.image_size)
    if args.state_in:
        saved = torch.load(args.state_in)
        net.load_state_dict(reference_names(saved["state"], net, args.depth), strict=True)
    net = net.to(device).to(memory_format=memory_format).train()
    parameters = sum(p.numel() for p in net.parameters())
    lars = Lars([p for p in net.parameters() if p.requires_grad])
    model = net
    if args.compile:
        if not hasattr(torch, "compile"):
            parser.error("--compile needs PyTorch 2.x; this is " + torch.__version__)
        model = torch.compile(net)
    lr = 0.3 * args.batch / 256
    views = torch.randn(2 * args.batch, args.channels, args.image_size,
                        args.image_size, device=device).contiguous(
                            memory_format=memory_format)
    if args.state_in:
        views = saved["views"].to(device).contiguous(memory_format=memory_format)

    def step():
        lars.zero_grad()
        with torch.autocast(device.type, dtype=torch.bfloat16,
                            enabled=args.precision == "bf16"):
            z1, z2 = model(views).chunk(2, 0)
            loss, _ = nt_xent(z1, z2)
        loss.backward()
        lars.step(lr)
        return loss.item()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    loss = first_loss = float("nan")
    first_step_s = None
    for i in range(args.warmup):
        start = time.perf_counter()
        loss = step()
        if i == 0:
            sync()
            first_step_s = time.perf_counter() - start
            first_loss = loss
    sync()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        loss = step()
        sync()
        times.append(time.perf_counter() - start)
        if args.warmup == 0 and len(times) == 1:
            first_loss = loss
    if args.profile:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            step()
            sync()
        prof.export_chrome_trace(args.profile)
    median = statistics.median(times)
    ips = args.batch / median
    impl = "pytorch_compile" if args.compile else "pytorch"
    print("PyTorch %s %s: ResNet-%d w%g %dx%dx%d batch %d %s%s on %s, "
          "%d threads: median step %.4f s (min %.4f, max %.4f) = %.1f images/s "
          "(%.1f views/s), loss %.4f" %
          ("compiled" if args.compile else "eager", torch.__version__,
           args.depth, args.width, args.image_size,
           args.image_size, args.channels, args.batch, args.precision,
           " channels_last" if args.channels_last else "", device,
           torch.get_num_threads(), median, min(times), max(times), ips,
           2 * ips, loss))
    print("RESULT " + json.dumps({
        "impl": impl, "torch": torch.__version__, "depth": args.depth,
        "width": args.width, "sk_ratio": 0.0, "image_size": args.image_size,
        "channels": args.channels, "batch": args.batch,
        "precision": args.precision, "channels_last": args.channels_last,
        "device": str(device), "threads": torch.get_num_threads(),
        "steps": args.steps, "parameters": parameters,
        "median_step_s": round(median, 6), "images_per_s": round(ips, 3),
        "first_loss": round(first_loss, 6),
        "loss": round(loss, 6),
        "first_step_s": None if first_step_s is None else round(first_step_s, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
