"""Linear probes on frozen self-supervised features: digits test accuracy, beside a random encoder.

Issue #11's self-supervised acceptance. Each method (``rlsuite fit METHOD --data digits``) trains
its encoder on the digits' training split without labels; its best.pt encoder (lowest validation
loss) is then frozen, and a logistic regression is fitted on the training split's features and
scored on the held-out test split (the fixed 20% of ``rlsuite.supervised.data``). The yardstick is
the same probe on the same architecture, randomly initialised (seeded like the run); the target
is 90%. The ratio is the method's error over the random encoder's (< 1: fewer mistakes).

    python benchmarks/selfsup_probe.py                         # 5 methods x seeds 0-2 (~15 min)
    python benchmarks/selfsup_probe.py --methods simclr --seeds 0 --epochs 20
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from rlsuite.supervised.data import Split, load_dataset
from rlsuite.supervised.encoders import build_encoder, default_spec, linear_probe
from rlsuite.supervised.fit import fit, load_model, resolve_fit_config
from rlsuite.supervised.selfsup import METHODS

TARGET = 0.90


def as_frames(split: Split) -> np.ndarray:
    """(N, 1, 8, 8) in [0, 1] -> (N, 8, 8, 1) in 0..255: what every encoder takes."""
    return (split.x.permute(0, 2, 3, 1) * 255.0).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args()
    torch.set_num_threads(1)
    digits = load_dataset("digits")
    train, test = as_frames(digits.train), as_frames(digits.test)
    train_y, test_y = digits.train.y.numpy(), digits.test.y.numpy()

    def probe(encoder) -> float:
        return linear_probe(encoder, train, train_y, test, test_y)

    random_accuracy = {}
    for seed in args.seeds:
        torch.manual_seed(seed)  # the methods' encoders start from this draw too
        random_accuracy[seed] = probe(build_encoder(default_spec((8, 8, 1))))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for method in args.methods:
            accuracies, seconds = [], []
            for seed in args.seeds:
                start = time.perf_counter()
                config = resolve_fit_config(method, "digits", epochs=args.epochs, seed=seed)
                run = Path(folder) / f"{method}_s{seed}"
                fit(config, run, dataset=digits)
                accuracies.append(probe(load_model(run).encoder))
                seconds.append(time.perf_counter() - start)
                print(
                    f"{method} seed {seed}: {accuracies[-1]:.4f} ({seconds[-1]:.0f} s)", flush=True
                )
            rows.append((method, accuracies, seconds))

    randoms = [random_accuracy[s] for s in args.seeds]
    print(
        f"\nLinear probe on frozen features, digits test split ({len(test_y)} images), "
        f"seeds {args.seeds}, {args.epochs} epochs of self-supervised training; target "
        f">= {TARGET:.0%}; ratio = error / random encoder's error\n"
    )
    print(
        "| encoder | accuracy per seed | median | random encoder (median) | error ratio | "
        "meets 90% | train s (median) |"
    )
    print("|---|---|---|---|---|---|---|")
    random_median = statistics.median(randoms)
    for method, accuracies, seconds in rows:
        median = statistics.median(accuracies)
        ratio = (1 - median) / (1 - random_median)
        per_seed = ", ".join(f"{a:.4f}" for a in accuracies)
        meets = "yes" if min(accuracies) >= TARGET else "no"
        print(
            f"| {method} | {per_seed} | {median:.4f} | {random_median:.4f} | {ratio:.2f} | "
            f"{meets} | {statistics.median(seconds):.0f} |"
        )
    per_seed = ", ".join(f"{a:.4f}" for a in randoms)
    print(f"| random (untrained) | {per_seed} | {random_median:.4f} | - | 1.00 | - | 0 |")


if __name__ == "__main__":
    main()
