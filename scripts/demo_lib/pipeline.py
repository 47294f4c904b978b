"""Writes the demo's job file: the SimCLRv2 pipeline on Fashion-MNIST and the
supervised baselines it is compared with, sized by mode.

Usage: pipeline.py quick|default|full [SEED] > pipeline.yaml

SEED (default 7) seeds every job: weight initialisation, the labelled
subsets, data order and augmentations. Runs with the same mode and seed give
the same numbers; other seeds measure the spread.
"""
import sys

# Per mode: pretraining epochs, fine-tuning epochs (1% / 10%), supervised
# epochs on 100%, distillation epochs, and data slices for a fast first look.
MODES = {
    # First contact and CI: a few hundred steps in all, on slices.
    "quick": dict(pre_epochs=2, ft1_epochs=20, ft10_epochs=4, sup100_epochs=1,
                  kd_epochs=1, lin_epochs=1, train_slice=8192, test_slice=2000),
    # The README's main command: at most 20 minutes on 2 cores.
    "default": dict(pre_epochs=2, ft1_epochs=30, ft10_epochs=6, sup100_epochs=1,
                    kd_epochs=1, lin_epochs=1, train_slice=0, test_slice=0),
    # Closer to what the recipe can reach (71 minutes on 2 cores).
    "full": dict(pre_epochs=20, ft1_epochs=60, ft10_epochs=15, sup100_epochs=5,
                 kd_epochs=4, lin_epochs=3, train_slice=0, test_slice=0),
}

# Measured on 2 cores (2 workers, 1 thread each): ResNet-18 w0.125 pretrains
# at ~570-640 views/s in fp32 and ~400 in bf16, w0.25 at ~290 fp32. The
# default run uses the narrow net in fp32.
TEACHER = "{depth: 18, width_multiplier: 0.125, proj_head_layers: 3, proj_dim: 64}"
# The student: half the teacher's width (about a quarter of its parameters).
STUDENT = "{depth: 18, width_multiplier: 0.0625, proj_head_layers: 1, proj_dim: 64}"


def data(m, fraction=None):
    parts = ["dataset: fashion-mnist"]
    if fraction is not None:
        parts.append("label_fraction: %g" % fraction)
    if m["train_slice"]:
        parts.append("max_train_examples: %d" % m["train_slice"])
    if m["test_slice"]:
        parts.append("max_test_examples: %d" % m["test_slice"])
    return "{%s}" % ", ".join(parts)


def job(**fields):
    return "\n".join("%s: %s" % (k, v) for k, v in fields.items()) + "\n"


def train(batch_size, epochs, seed, extra=""):
    return "{batch_size: %d, epochs: %g, precision: fp32, seed: %d%s}" % (
        batch_size, epochs, seed, extra)


def pipeline(mode, seed=7):
    m = MODES[mode]
    tuning = "{name: lars, base_lr: 0.05, lr_scaling: sqrt, weight_decay: 0, warmup_epochs: 0}"
    docs = [
        job(name="demo-pretrain", kind="pretrain", world_size=2, priority=10, model=TEACHER,
            data=data(m),
            # The paper's rate for small batches and short runs: 0.075 x sqrt(B).
            optimizer="{name: lars, base_lr: 0.075, lr_scaling: sqrt, weight_decay: 1.0e-6, "
                      "warmup_epochs: 0.2}",
            # Blur stays on as in the runs docs/results.md records (the
            # default at 28x28 is off, the official small-image recipe).
            train=train(512, m["pre_epochs"], seed, ", temperature: 0.2, "
                        "color_jitter_strength: 0.5, blur: true, checkpoint_every_steps: 100")),
    ]
    for pct, epochs in ((1, m["ft1_epochs"]), (10, m["ft10_epochs"])):
        docs.append(job(name="demo-finetune-%dpct" % pct, kind="finetune", parent="demo-pretrain",
                        priority=5, data=data(m, pct / 100.0), finetune="{from_head_layer: 1}",
                        optimizer=tuning, train=train(64, epochs, seed)))
    docs.append(job(name="demo-linear-eval", kind="linear_eval", parent="demo-pretrain",
                    priority=5, data=data(m, 1.0),
                    # Linear evaluation as in the official code: momentum, 0.1 x B/256.
                    # Plain momentum, as in the runs docs/results.md records
                    # (the default for sgd is Nesterov's, the official one).
                    optimizer="{name: sgd, base_lr: 0.1, lr_scaling: linear, weight_decay: 0, "
                              "nesterov: false}",
                    train=train(256, m["lin_epochs"], seed)))
    docs.append(job(name="demo-distill", kind="distill", teacher="demo-finetune-10pct", priority=5,
                    model=STUDENT, data=data(m), distill="{temperature: 1.0}",
                    optimizer="{name: lars, base_lr: 0.05, lr_scaling: sqrt, weight_decay: 0, "
                              "warmup_epochs: 0}",
                    train=train(128, m["kd_epochs"], seed)))
    # Baselines: the same encoder from scratch, same optimizer and budget.
    for pct, epochs in ((1, m["ft1_epochs"]), (10, m["ft10_epochs"]), (100, m["sup100_epochs"])):
        docs.append(job(name="demo-supervised-%dpct" % pct, kind="supervised", priority=0,
                        model=TEACHER, data=data(m, pct / 100.0), optimizer=tuning,
                        train=train(64, epochs, seed)))
    return "---\n".join(docs)


def main(argv):
    if not 2 <= len(argv) <= 3:
        sys.exit("usage: pipeline.py quick|default|full [SEED]")
    mode = argv[1]
    if mode not in MODES:
        sys.exit("pipeline.py: mode: got %r, expected one of %s" % (mode, ", ".join(MODES)))
    seed = 7
    if len(argv) == 3:
        if not argv[2].isdigit():
            sys.exit("pipeline.py: seed: got %r, expected a non-negative integer" % argv[2])
        seed = int(argv[2])
    sys.stdout.write(pipeline(mode, seed))


if __name__ == "__main__":
    main(sys.argv)
