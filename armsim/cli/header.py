"""``armsim header``: a model's memory plan as a C header for hand-written inference code."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from armsim import __version__
from armsim.cli import common as C
from armsim.cli import options as O
from armsim.errors import EXIT_OK
from armsim.firmware.header import layout_header
from armsim.parts.cpus import CPUS
from armsim.parts.mcus import MCUS


def add_parser(sub: Any) -> None:
    """Register the command."""
    h = sub.add_parser("header", help="write the model's memory plan as a C header "
                       "(model_layout.h) for your own inference code",
                       description="Addresses as #define and typed pointers, counts, shapes "
                       "and each buffer's element order, from the same plan the exporter, the "
                       "script checks and armsim's firmware use.")
    O.add_model(h, positional=True, help_=".keras (or int8 .tflite) model")
    h.add_argument("--mcu", type=O.mcu_name, metavar="{" + ",".join(MCUS) + "}", help="MCU preset (the plan's SRAM base)")
    h.add_argument("--cpu", type=O.cpu_name, metavar="{" + ",".join(CPUS) + "}", help="CPU variant (int8 scratch sizes)")
    h.add_argument("--out", help="write here instead of stdout (.h)")
    h.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print (or write) the header."""
    out = O.check_output(args.out, (".h",), "--out") if args.out else None
    ref = C.load_model(args)
    assert ref is not None
    cpu, mcu = C.target(args, ref.graph)
    plan = C.plan_for(args, ref.graph, mcu, cpu, weights_default="sram")  # for your own C
    text = layout_header(ref.graph, plan, __version__)
    if out is not None:
        out.write_text(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK
