"""``armsim build``: cross-compile a model's firmware for one CPU (cached)."""

from __future__ import annotations

import argparse
from typing import Any

from ..codegen import build
from . import common as C


def add_parser(sub: Any) -> None:
    """Register the command."""
    b = sub.add_parser("build", help="cross-compile the firmware of a model (cached)")
    C.add_target(b)
    C.add_model(b)
    b.add_argument("--force", action="store_true", help="rebuild even if cached")
    b.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build and print where the ELF is."""
    ref = C.load_model(args)
    assert ref is not None
    cpu, mcu = C.target(args, ref.graph)
    plan = C.plan_for(args, ref.graph, mcu, cpu)
    b = build(cpu, plan, mcu, force=args.force, kernels=args.kernels)
    print(f"{b.elf} ({'cached' if b.cached else 'built'}; model '{ref.graph.name}', plan "
          f"{plan.preset}, {b.cpu.title}, MCU {b.mcu.name}, {b.kernels} kernels)")
    return C.EXIT_OK
