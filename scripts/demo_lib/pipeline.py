"""Writes the demo's job file: the SimCLRv2 pipeline on Fashion-MNIST and the
supervised baselines it is compared with, sized by mode.

Usage: pipeline.py quick|default|full|sweep [SEED] [--memory N [--memory-momentum M]]
                   [--temperature T] [--blur on|off] [--validation N] > pipeline.yaml

SEED (default 7) seeds every job: weight initialisation, the labelled
subsets, data order and augmentations. Runs with the same mode and seed give
the same numbers; other seeds measure the spread. For ablations: --memory N
gives pretraining a memory of N negatives (train.memory_size; its key network's
momentum M, default the paper's 0.999); --temperature T and --blur on|off
set pretraining's NT-Xent temperature (default 0.2) and Gaussian blur (default
on, as the recorded runs); --validation N
holds out N training images from every job and measures every job on them
(data.validation_examples, evaluate_on: validation) instead of the test split.
"""
import argparse
import sys

# Per mode: pretraining epochs, fine-tuning epochs (1% / 10%), supervised
# epochs on 100%, distillation epochs, and data slices for a fast first look.
# tuned_finetune: fine-tune with the tuned supervised baseline's optimiser and
# budget (TUNED_SUPERVISED, TUNED_EPOCHS; chosen on the validation split,
# docs/results.md) instead of the short LARS recipe, which the budget-matched
# baselines keep with ft1_epochs / ft10_epochs.
MODES = {
    # First contact and CI: a few hundred steps in all, on slices.
    "quick": dict(pre_epochs=2, ft1_epochs=20, ft10_epochs=4, sup100_epochs=1,
                  kd_epochs=1, lin_epochs=1, train_slice=8192, test_slice=2000),
    # The README's main command: at most 20 minutes on 2 cores.
    "default": dict(pre_epochs=2, ft1_epochs=30, ft10_epochs=6, sup100_epochs=1,
                    kd_epochs=1, lin_epochs=1, train_slice=0, test_slice=0),
    # Closer to what the recipe can reach (about an hour on 2 cores).
    "full": dict(pre_epochs=40, ft1_epochs=60, ft10_epochs=15, sup100_epochs=5,
                 kd_epochs=4, lin_epochs=3, train_slice=0, test_slice=0, tuned_finetune=True),
}

# Measured on 2 cores (2 workers, 1 thread each): ResNet-18 w0.125 pretrains
# at ~1,600 views/s in fp32 (docs/performance.md; ~75 s per epoch of 60,000
# images). The default run uses the narrow net in fp32.
TEACHER = "{depth: 18, width_multiplier: 0.125, proj_head_layers: 3, proj_dim: 64}"
# The supervised baseline tuned on a validation set (docs/results.md), the
# same in every mode.
TUNED_SUPERVISED = ("{name: sgd, base_lr: 0.4, lr_scaling: linear, weight_decay: 5.0e-4, "
                    "warmup_epochs: 0}")
TUNED_EPOCHS = {1: 100, 10: 30}
# Pretraining's optimiser: the paper's rate for small batches and short runs,
# 0.075 x sqrt(B), and its training options after the epochs (blur stays on
# as in the runs docs/results.md records; the default at 28x28 is off, the
# official small-image recipe). scripts/bench e2e times this same job.
PRETRAIN_OPTIMIZER = ("{name: lars, base_lr: 0.075, lr_scaling: sqrt, weight_decay: 1.0e-6, "
                      "warmup_epochs: 0.2}")
PRETRAIN_TEMPERATURE = 0.2
PRETRAIN_BLUR = True


def pretrain_train_options(temperature=PRETRAIN_TEMPERATURE, blur=PRETRAIN_BLUR):
    """Pretraining's training options after the epochs; the arguments are the
    ablations' knobs."""
    return ", temperature: %g, color_jitter_strength: 0.5, blur: %s" % (
        temperature, "true" if blur else "false")


PRETRAIN_TRAIN_OPTIONS = pretrain_train_options()
# The student: half the teacher's width (about a quarter of its parameters).
STUDENT = "{depth: 18, width_multiplier: 0.0625, proj_head_layers: 1, proj_dim: 64}"


def data(m, fraction=None, validation=0):
    parts = ["dataset: fashion-mnist"]
    if fraction is not None:
        parts.append("label_fraction: %g" % fraction)
    if validation:
        parts.append("validation_examples: %d, evaluate_on: validation" % validation)
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


def pipeline(mode, seed=7, memory=0, validation=0, memory_momentum=None,
             temperature=PRETRAIN_TEMPERATURE, blur=PRETRAIN_BLUR):
    m = MODES[mode]
    v = validation
    memory_option = ""
    if memory:
        memory_option = ", memory_size: %d" % memory
        if memory_momentum is not None:
            memory_option += ", memory_momentum: %g" % memory_momentum
    tuning = "{name: lars, base_lr: 0.05, lr_scaling: sqrt, weight_decay: 0, warmup_epochs: 0}"
    docs = [
        job(name="demo-pretrain", kind="pretrain", world_size=2, priority=10, model=TEACHER,
            data=data(m, validation=v), optimizer=PRETRAIN_OPTIMIZER,
            train=train(512, m["pre_epochs"], seed, pretrain_train_options(temperature, blur) +
                        ", checkpoint_every_steps: 100" + memory_option)),
    ]
    for pct, epochs in ((1, m["ft1_epochs"]), (10, m["ft10_epochs"])):
        optimizer = tuning
        if m.get("tuned_finetune"):
            optimizer, epochs = TUNED_SUPERVISED, TUNED_EPOCHS[pct]
        docs.append(job(name="demo-finetune-%dpct" % pct, kind="finetune", parent="demo-pretrain",
                        priority=5, data=data(m, pct / 100.0, v), finetune="{from_head_layer: 1}",
                        optimizer=optimizer, train=train(64, epochs, seed)))
    docs.append(job(name="demo-linear-eval", kind="linear_eval", parent="demo-pretrain",
                    priority=5, data=data(m, 1.0, v),
                    # Linear evaluation as in the official code: momentum, 0.1 x B/256.
                    # Plain momentum, as in the runs docs/results.md records
                    # (the default for sgd is Nesterov's, the official one).
                    optimizer="{name: sgd, base_lr: 0.1, lr_scaling: linear, weight_decay: 0, "
                              "nesterov: false}",
                    train=train(256, m["lin_epochs"], seed)))
    docs.append(job(name="demo-distill", kind="distill", teacher="demo-finetune-10pct", priority=5,
                    model=STUDENT, data=data(m, validation=v), distill="{temperature: 1.0}",
                    optimizer="{name: lars, base_lr: 0.05, lr_scaling: sqrt, weight_decay: 0, "
                              "warmup_epochs: 0}",
                    train=train(128, m["kd_epochs"], seed)))
    # Baselines: the same encoder from scratch, the short LARS recipe and
    # budget (the fine-tuning's, unless the mode fine-tunes the tuned way).
    for pct, epochs in ((1, m["ft1_epochs"]), (10, m["ft10_epochs"]), (100, m["sup100_epochs"])):
        docs.append(job(name="demo-supervised-%dpct" % pct, kind="supervised", priority=0,
                        model=TEACHER, data=data(m, pct / 100.0, v), optimizer=tuning,
                        train=train(64, epochs, seed)))
    # And trained as a practitioner would train it on these labels: the best
    # of the sweep in examples/ablations/supervised-baseline.yaml (SGD with
    # Nesterov momentum, lr 0.4 x B/256, weight decay 5e-4, many epochs),
    # chosen on a validation set (docs/results.md).
    for pct, epochs in ((1, TUNED_EPOCHS[1]), (10, TUNED_EPOCHS[10])):
        docs.append(job(name="demo-supervised-tuned-%dpct" % pct, kind="supervised", priority=0,
                        model=TEACHER, data=data(m, pct / 100.0, v), optimizer=TUNED_SUPERVISED,
                        train=train(64, epochs, seed)))
    return "---\n".join(docs)


# The paper's headline finding, replayed (its Figure 1 and Table 1): the gain
# of pretraining over supervised training on few labels grows with the
# network. --full's recipe at three widths with the same budget in epochs:
# pretraining as PRETRAIN_OPTIMIZER / PRETRAIN_TRAIN_OPTIONS, fine-tuning with
# the tuned supervised baseline's optimiser and epochs, which is the opponent
# at each width (so each gain is pretraining's alone). About 1 h 45 min on 2
# cores: pretraining 15 epochs takes ~20 minutes at widths 1/16 and 1/8
# (~1,600 views/s) and ~42 at 1/4 (~710 views/s); docs/results.md.
SWEEP_WIDTHS = (0.0625, 0.125, 0.25)
SWEEP_PRETRAIN_EPOCHS = 15


def sweep_name(width, part):
    """Job names carry the width as a fraction: sweep-w1-8-pretrain is 1/8."""
    return "sweep-w1-%d-%s" % (round(1 / width), part)


def sweep(seed=7, validation=0):
    m, v = dict(train_slice=0, test_slice=0), validation
    docs = []
    for width in SWEEP_WIDTHS:
        model = "{depth: 18, width_multiplier: %g, proj_head_layers: 3, proj_dim: 64}" % width
        pretrain = sweep_name(width, "pretrain")
        docs.append(job(name=pretrain, kind="pretrain", world_size=2, priority=10, model=model,
                        data=data(m, validation=v), optimizer=PRETRAIN_OPTIMIZER,
                        train=train(512, SWEEP_PRETRAIN_EPOCHS, seed, PRETRAIN_TRAIN_OPTIONS +
                                    ", checkpoint_every_steps: 100")))
        for pct in (1, 10):
            docs.append(job(name=sweep_name(width, "finetune-%dpct" % pct), kind="finetune",
                            parent=pretrain, priority=5, data=data(m, pct / 100.0, v),
                            finetune="{from_head_layer: 1}", optimizer=TUNED_SUPERVISED,
                            train=train(64, TUNED_EPOCHS[pct], seed)))
            docs.append(job(name=sweep_name(width, "supervised-tuned-%dpct" % pct),
                            kind="supervised", priority=0, model=model,
                            data=data(m, pct / 100.0, v), optimizer=TUNED_SUPERVISED,
                            train=train(64, TUNED_EPOCHS[pct], seed)))
    return "---\n".join(docs)


def main(argv):
    parser = argparse.ArgumentParser(prog="pipeline.py")
    parser.add_argument("mode")
    parser.add_argument("seed", nargs="?", default="7")
    parser.add_argument("--memory", default="0")
    parser.add_argument("--memory-momentum", type=float)
    parser.add_argument("--validation", default="0")
    parser.add_argument("--temperature", default=str(PRETRAIN_TEMPERATURE))
    parser.add_argument("--blur", default="on" if PRETRAIN_BLUR else "off")
    args = parser.parse_args(argv[1:])
    if args.mode not in MODES and args.mode != "sweep":
        sys.exit("pipeline.py: mode: got %r, expected one of %s, sweep" %
                 (args.mode, ", ".join(MODES)))
    for name, value in (("seed", args.seed), ("--memory", args.memory),
                        ("--validation", args.validation)):
        if not value.isdigit():
            sys.exit("pipeline.py: %s: got %r, expected a non-negative integer" % (name, value))
    try:
        temperature = float(args.temperature)
    except ValueError:
        temperature = 0
    if not temperature > 0:
        sys.exit("pipeline.py: --temperature: got %r, expected a number above 0" %
                 args.temperature)
    if args.blur not in ("on", "off"):
        sys.exit("pipeline.py: --blur: got %r, expected on or off" % args.blur)
    if args.mode == "sweep":
        sys.stdout.write(sweep(int(args.seed), int(args.validation)))
        return
    sys.stdout.write(pipeline(args.mode, int(args.seed), int(args.memory), int(args.validation),
                              args.memory_momentum, temperature, args.blur == "on"))


if __name__ == "__main__":
    main(sys.argv)
