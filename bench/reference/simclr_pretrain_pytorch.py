#!/usr/bin/env python3
"""SimCLR pretraining on Fashion-MNIST as a PyTorch user would write it: the
baseline the service races end to end (scripts/bench e2e).

What a practitioner writes instead of using the service: torchvision
transforms on PIL images (random resized crop, flip, colour jitter, random
grayscale, Gaussian blur), a DataLoader with worker processes per rank, a
DistributedSampler, DistributedDataParallel over Gloo, NT-Xent whose negatives
come from every rank (a differentiable all_gather), the online linear probe on
detached features, and LARS. The network is the one of
simclr_step_pytorch.py (the SimCLRv2 ResNet layout and projection head of
model/nn), so both sides train the same model on the same data.

Batch norm:
  --bn local   what PyTorch gives on CPU: nn.BatchNorm over each rank's own
               batch (SyncBatchNorm is CUDA-only in PyTorch);
  --bn global  batch statistics over every rank, as the service computes them:
               a Python autograd function with one allreduce of the statistics
               in forward and one of the gradient sums in backward, per layer.

--channels_last stores the network NHWC (what a user who knows oneDNN's
preferences would add; the service does it by default on CPU).

Run it as one command: it starts --world_size processes of itself (like
torchrun) and rank 0 prints a summary and a line "RESULT {json}": views per
second between the end of step --warmup and the end of the last step (every
image gives two views), the median step time, and the share of the step spent
waiting for the DataLoader.
"""

import argparse
import datetime
import gzip
import json
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torch.nn.parallel import DistributedDataParallel
from torchvision import transforms

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simclr_step_pytorch import Lars, ProjectionHead, ResNet  # noqa: E402

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class TwoViews(torch.utils.data.Dataset):
    """Fashion-MNIST training images, each returned as two augmented views."""

    def __init__(self, root, transform, limit):
        self.images = read_idx(os.path.join(root, "train-images-idx3-ubyte.gz"))
        self.labels = read_idx(os.path.join(root, "train-labels-idx1-ubyte.gz"))
        if limit:
            self.images, self.labels = self.images[:limit], self.labels[:limit]
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image = Image.fromarray(self.images[i], mode="L")
        return self.transform(image), self.transform(image), int(self.labels[i])


def simclr_transform(size, strength, blur):
    """SimCLR's augmentations (Chen et al. 2020, Appendix A) in torchvision."""
    s = strength
    steps = [transforms.RandomResizedCrop(size, scale=(0.08, 1.0)),
             transforms.RandomHorizontalFlip(),
             transforms.RandomApply([transforms.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)],
                                    p=0.8),
             transforms.RandomGrayscale(p=0.2)]
    if blur:  # 10% of the side, made odd, as the service's blur
        steps.append(transforms.RandomApply(
            [transforms.GaussianBlur(2 * (size // 20) + 1, sigma=(0.1, 2.0))], p=0.5))
    steps.append(transforms.ToTensor())
    return transforms.Compose(steps)


class GlobalBatchNormFunction(torch.autograd.Function):
    """Batch norm with statistics over every rank's batch: sums of x and x^2
    and the count allreduced in forward; sums of dy and dy*xhat in backward."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
        dims = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        count = torch.tensor([x.numel() / x.shape[1]], dtype=x.dtype)
        stats = torch.cat([x.sum(dims), (x * x).sum(dims), count])
        dist.all_reduce(stats)
        c = x.shape[1]
        n = stats[-1]
        mean = stats[:c] / n
        var = (stats[c:2 * c] / n - mean * mean).clamp_min(0)
        invstd = torch.rsqrt(var + eps)
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
            running_var.mul_(1 - momentum).add_(var * n / (n - 1), alpha=momentum)
        xhat = (x - mean.view(shape)) * invstd.view(shape)
        ctx.save_for_backward(xhat, weight, invstd, n)
        ctx.has_bias = bias is not None
        out = xhat * weight.view(shape)
        return out if bias is None else out + bias.view(shape)

    @staticmethod
    def backward(ctx, dy):
        xhat, weight, invstd, n = ctx.saved_tensors
        dims = [0] + list(range(2, dy.dim()))
        shape = [1, -1] + [1] * (dy.dim() - 2)
        local_dy = dy.sum(dims)
        local_dy_xhat = (dy * xhat).sum(dims)
        sums = torch.cat([local_dy, local_dy_xhat])
        dist.all_reduce(sums)
        c = dy.shape[1]
        mean_dy, mean_dy_xhat = sums[:c] / n, sums[c:] / n
        dx = (dy - mean_dy.view(shape) - xhat * mean_dy_xhat.view(shape)) * \
            (weight * invstd).view(shape)
        return dx, local_dy_xhat, local_dy if ctx.has_bias else None, None, None, None, None


class GlobalBatchNorm(nn.Module):
    def __init__(self, bn):
        super().__init__()
        self.weight, self.bias = bn.weight, bn.bias
        self.register_buffer("running_mean", bn.running_mean)
        self.register_buffer("running_var", bn.running_var)
        self.momentum, self.eps = bn.momentum, bn.eps

    def forward(self, x):
        if not self.training:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                False, 0.0, self.eps)
        return GlobalBatchNormFunction.apply(x, self.weight, self.bias, self.running_mean,
                                             self.running_var, self.momentum, self.eps)


def make_global(module):
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, GlobalBatchNorm(child))
        else:
            make_global(child)


class Pretrainer(nn.Module):
    """Encoder, projection head and the online linear probe (on detached
    features, so it does not train the encoder), as the service's pretraining."""

    def __init__(self, args, classes):
        super().__init__()
        self.resnet = ResNet(18, args.width, 1, args.image_size)
        self.head = ProjectionHead(self.resnet.num_features, args.head_layers, args.proj_dim)
        self.fc = nn.Linear(self.resnet.num_features, classes)

    def forward(self, x):
        h = self.resnet(x)
        return self.head(h), self.fc(h.detach())


def nt_xent_global(z, rank, temperature):
    """NT-Xent over the 2n views of this rank (z = [view 1; view 2]) as
    anchors against the views of every rank (a differentiable all_gather)."""
    z = F.normalize(z, dim=1)
    n2 = z.shape[0]
    everyone = torch.cat(dist_nn.all_gather(z), 0)
    logits = z @ everyone.t() / temperature
    own = torch.arange(n2) + rank * n2
    logits[torch.arange(n2), own] = float("-inf")
    positive = own.roll(n2 // 2)
    return F.cross_entropy(logits, positive)


def train_rank(args):
    dist.init_process_group("gloo", rank=args.rank, world_size=args.world_size,
                            timeout=datetime.timedelta(seconds=120))
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dataset = TwoViews(args.data, simclr_transform(args.image_size, args.jitter, args.blur),
                       args.limit)
    sampler = torch.utils.data.distributed.DistributedSampler(
        dataset, num_replicas=args.world_size, rank=args.rank, seed=args.seed, drop_last=True)
    local_batch = args.batch // args.world_size
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=local_batch, sampler=sampler, drop_last=True,
        num_workers=args.loader_workers, persistent_workers=args.loader_workers > 0)
    net = Pretrainer(args, 10)
    if args.bn == "global":
        make_global(net)
    if args.channels_last:
        net = net.to(memory_format=torch.channels_last)
    model = DistributedDataParallel(net)
    lars = Lars([p for p in net.parameters() if p.requires_grad])
    lr = 0.075 * math.sqrt(args.batch)

    step, epoch, wait, ends = 0, 0, [], []
    while step < args.steps:
        sampler.set_epoch(epoch)
        batches = iter(loader)
        while step < args.steps:
            start = time.perf_counter()
            try:
                view1, view2, labels = next(batches)
            except StopIteration:
                break
            wait.append(time.perf_counter() - start)
            lars.zero_grad()
            z, logits = model(torch.cat([view1, view2], 0))
            loss = nt_xent_global(z, args.rank, args.temperature) + \
                F.cross_entropy(logits, torch.cat([labels, labels], 0))
            loss.backward()
            lars.step(lr)
            loss_value = loss.item()
            ends.append((time.perf_counter(), time.perf_counter() - start))
            step += 1
        epoch += 1
    if args.rank == 0:
        timed = ends[args.warmup:]
        seconds = timed[-1][0] - ends[args.warmup - 1][0]
        views = 2 * args.batch * len(timed)
        step_times = [t for _, t in timed]
        result = {"impl": "pytorch", "torch": torch.__version__, "bn": args.bn,
                  "channels_last": args.channels_last,
                  "world_size": args.world_size, "threads": args.threads,
                  "loader_workers": args.loader_workers, "width": args.width,
                  "batch": args.batch, "steps": args.steps, "warmup": args.warmup,
                  "views_per_s": round(views / seconds, 2),
                  "median_step_s": round(statistics.median(step_times), 4),
                  "data_wait_fraction": round(sum(wait[args.warmup:]) / sum(step_times), 4),
                  "loss": round(loss_value, 4)}
        print("PyTorch %s DDP, %s BN%s, %d ranks x %d threads, %d loader workers each: "
              "%.1f views/s, median step %.3f s, data wait %.1f%%" % (
                  torch.__version__, args.bn, ", channels_last" if args.channels_last else "",
                  args.world_size, args.threads,
                  args.loader_workers, result["views_per_s"], result["median_step_s"],
                  100 * result["data_wait_fraction"]))
        print("RESULT " + json.dumps(result), flush=True)
    dist.barrier()
    dist.destroy_process_group()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bn", choices=("local", "global"), default="local")
    parser.add_argument("--channels_last", action="store_true")
    parser.add_argument("--world_size", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads per rank")
    parser.add_argument("--loader_workers", type=int, default=1, help="per rank")
    parser.add_argument("--width", type=float, default=0.125)
    parser.add_argument("--head_layers", type=int, default=3)
    parser.add_argument("--proj_dim", type=int, default=64)
    parser.add_argument("--image_size", type=int, default=28)
    parser.add_argument("--batch", type=int, default=512, help="global batch in images")
    parser.add_argument("--temperature", type=float, default=0.2)
    parser.add_argument("--jitter", type=float, default=0.5, help="colour jitter strength")
    parser.add_argument("--blur", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5, help="steps not timed")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limit", type=int, default=0, help="first N training images (0: all)")
    parser.add_argument("--data", default=FASHION_MNIST)
    parser.add_argument("--rank", type=int, default=-1, help=argparse.SUPPRESS)
    parser.add_argument("--master_port", type=int, default=29517)
    args = parser.parse_args(argv)
    if args.warmup < 1 or args.steps <= args.warmup or args.batch % args.world_size:
        parser.error("need --warmup >= 1, --steps > --warmup, --batch a multiple of --world_size")
    if args.rank >= 0:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(args.master_port))
        train_rank(args)
        return 0
    ranks = [subprocess.Popen([sys.executable, os.path.abspath(__file__)] + argv +
                              ["--rank", str(r)]) for r in range(args.world_size)]
    codes = [p.wait() for p in ranks]
    return max(codes)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
