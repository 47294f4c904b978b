"""Loads a network exported by simclr (model/checkpoint/export.h) the way a
PyTorch user would, and checks that it reproduces the exported probe.

Usage: /usr/bin/python3 export_check.py MODEL.pt

The encoder is torchvision's own BasicBlock/Bottleneck modules assembled under
torchvision's ResNet attribute names at the exported width; it loads with
strict=True, as do the head (an nn.Sequential) and the classifier. Prints the
largest differences and exits 1 if any output differs from the probe by more
than 1e-4 (relative to its scale).
"""
import sys

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck

BLOCKS = {18: (BasicBlock, [2, 2, 2, 2]), 34: (BasicBlock, [3, 4, 6, 3]),
          50: (Bottleneck, [3, 4, 6, 3]), 101: (Bottleneck, [3, 4, 23, 3]),
          152: (Bottleneck, [3, 8, 36, 3])}


class ResNet(nn.Module):
    """torchvision's ResNet layout (conv1, bn1, maxpool, layer1..4) at any width;
    every stage's first block has a downsample, as in SimCLR's ResNet."""

    def __init__(self, depth, width, in_channels, small_input_stem):
        super().__init__()
        block, counts = BLOCKS[depth]
        channels = max(1, round(64 * width))
        if small_input_stem:
            self.conv1 = nn.Conv2d(in_channels, channels, 3, 1, 1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_channels, channels, 7, 2, 3, bias=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        inplanes = channels
        for stage, count in enumerate(counts):
            planes = max(1, round(64 * width * 2 ** stage))
            stride = 1 if stage == 0 else 2
            out = planes * block.expansion
            downsample = nn.Sequential(nn.Conv2d(inplanes, out, 1, stride, bias=False),
                                       nn.BatchNorm2d(out))
            layers = [block(inplanes, planes, stride, downsample)]
            layers += [block(out, planes) for _ in range(count - 1)]
            setattr(self, "layer%d" % (stage + 1), nn.Sequential(*layers))
            inplanes = out
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.features = inplanes

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, 5):
            x = getattr(self, "layer%d" % i)(x)
        return torch.flatten(self.avgpool(x), 1)


def head_of(config, features):
    layers = []
    for k in range(config["proj_head_layers"]):
        last = k == config["proj_head_layers"] - 1
        out = config["proj_dim"] if last else features
        layers += [nn.Linear(features, out, bias=False),
                   nn.BatchNorm1d(out)]
        if not last:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def close(name, ours, theirs):
    error = (ours - theirs).abs().max().item() / max(1.0, theirs.abs().max().item())
    print("%-10s %s max relative difference %.2e" % (name, tuple(theirs.shape), error))
    return error <= 1e-4


def main(path):
    exported = torch.load(path)
    assert exported["format"] == "simclrv2-torchvision/1", exported["format"]
    config = exported["config"]
    encoder = ResNet(config["depth"], config["width_multiplier"], config["in_channels"],
                     config["small_input_stem"])
    encoder.load_state_dict(exported["encoder"], strict=True)
    head = head_of(config, encoder.features)
    head.load_state_dict(exported["head"], strict=True)
    for module in (encoder, head):
        module.eval()
    check = exported["check"]
    ok = True
    with torch.no_grad():
        features = encoder(check["input"])
        ok &= close("features", features, check["features"])
        outputs = [features]
        for module in head:
            outputs.append(module(outputs[-1]))
        # After each layer: Linear, BN, ReLU for hidden layers; Linear, BN last.
        per_layer = [features] + [outputs[i] for i in range(3, len(outputs), 3)]
        if config["proj_head_layers"] > 0:
            per_layer.append(outputs[-1])
        ok &= close("embedding", outputs[-1], check["embedding"])
        if config["num_classes"] > 0:
            fc = nn.Linear(exported["fc"]["weight"].shape[1], config["num_classes"])
            fc.load_state_dict(exported["fc"], strict=True)
            ok &= close("logits", fc(per_layer[config["from_head_layer"]]), check["logits"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
