"""``armsim train``: train the seed CNN on MNIST as the notebook does, and save it."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

import numpy as np

from armsim.cli import options as O
from armsim.errors import EXIT_OK
from armsim.model import inputs
from armsim.model.train import save, train


def add_parser(sub: Any) -> None:
    """Register the command."""
    t = sub.add_parser("train", help="train the seed CNN on MNIST and save it (.keras)")
    O.add_data(t)
    t.add_argument("--filters", type=int, choices=range(1, 9), default=8, metavar="F",
                   help="conv filters, 1..8 (the seed layout's room; default 8)")
    t.add_argument("--epochs", type=O.positive_int, default=5, help="epochs (default 5)")
    t.add_argument("--batch-size", type=O.positive_int, default=32,
                   help="batch size (default 32)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument("--limit", type=O.positive_int, help="train on the first N images only")
    t.add_argument("--out", default="model.keras", help="where to save (a .keras file; "
                   "default model.keras)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, evaluate, save."""
    out = O.check_output(args.out, (".keras",), "--out")
    assert out is not None
    res = train(args.data or inputs.shared_mnist(), args.filters, args.epochs, args.seed,
                args.batch_size, args.limit, verbose=0 if args.quiet else 1)
    print(f"\nTest accuracy: {res.accuracy:.4f}\n")
    print("Confusion matrix (rows: true class, columns: predicted)")
    with np.printoptions(linewidth=120):
        print(res.confusion)
    print("\nClassification report")
    print(res.report)
    command = "armsim " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    side = save(res, out, command, args.seed, args.epochs)
    print(f"\nSaved {out} (how it was made: {side})")
    return EXIT_OK
