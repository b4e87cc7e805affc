"""``armsim build``: cross-compile a model's firmware, or your own C, for one CPU (cached)."""

from __future__ import annotations

import argparse
import shutil
from typing import Any

from armsim import __version__
from armsim.cli import common as C
from armsim.cli import options as O
from armsim.cli import tflm
from armsim.errors import EXIT_OK
from armsim.firmware.build import build, check_plan_fits
from armsim.firmware.sources import build_sources


def add_parser(sub: Any) -> None:
    """Register the command."""
    b = sub.add_parser("build", help="cross-compile the firmware of a model, or your own C "
                       "program (--sources), for one CPU (cached)",
                       description="Without --sources: the model's firmware on armsim's "
                       "kernels. With --sources and no --model: your own program (its main, "
                       "printf and exit through semihosting), e.g. a unit-test runner for "
                       "`armsim run`. With --sources and --model: your network code against "
                       "the model's plan (model_layout.h), as `simulate --sources` builds it.")
    O.add_target(b)
    O.add_runtime(b)
    O.add_model(b)
    O.add_sources(b)
    b.add_argument("--out", help="copy the ELF here (.elf or .axf)")
    b.add_argument("--force", action="store_true", help="rebuild even if cached")
    b.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build and print where the ELF is."""
    out = O.check_output(args.out, (".elf", ".axf"), "--out") if args.out else None
    if args.runtime == "tflm":
        O.refuse_with_tflm(args, "sources")
        return tflm.build(args, out)
    if args.sources:
        src = C.user_sources(args, entry=bool(args.model))
        ref = C.load_model(args, default=False)
        if ref is None:
            cpu, mcu = C.target(args)
            elf = build_sources(cpu, mcu, src, None, __version__)
            what = "your program"
        else:
            cpu, mcu = C.target(args, ref.graph)
            plan = C.plan_for(args, ref.graph, mcu, cpu)

            check_plan_fits(plan, mcu)
            elf = build_sources(cpu, mcu, src, plan, __version__)
            what = f"your network code, model '{ref.graph.name}', plan {plan.preset}"
        if out is not None:
            shutil.copyfile(elf, out)
        print(f"{out or elf} ({what}; {cpu.title}, MCU {mcu.name}; run it with `armsim run`)")
        return EXIT_OK
    ref = C.load_model(args)
    assert ref is not None
    cpu, mcu = C.target(args, ref.graph)
    plan = C.plan_for(args, ref.graph, mcu, cpu)
    b = build(cpu, plan, mcu, force=args.force, kernels=C.kernels_for(args, ref.graph))
    if out is not None:
        shutil.copyfile(b.elf, out)
    print(f"{out or b.elf} ({'cached' if b.cached else 'built'}; model '{ref.graph.name}', plan "
          f"{plan.preset}, {b.cpu.title}, MCU {b.mcu.name}, {b.kernels} kernels)")
    return EXIT_OK
