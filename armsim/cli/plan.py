"""``armsim plan``: the memory plan of a model as a table or JSON, checked against a part."""

from __future__ import annotations

import argparse
import json
from typing import Any

from armsim.cli import common as C
from armsim.cli import options as O
from armsim.errors import EXIT_OK, LayoutError
from armsim.firmware.build import check_plan_fits
from armsim.parts.cpus import CPUS, get_cpu
from armsim.parts.mcus import DEFAULT_MCU, MCUS, get_mcu, resolve_cpu
from armsim.report import tables as render
from armsim.session.versions import versions


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser("plan", help="print the memory plan of a model (addresses, sizes, "
                       "element order, producers)")
    O.add_model(p, positional=True, help_="a .keras model")
    p.add_argument("--mcu", default=DEFAULT_MCU, type=O.mcu_name, metavar="{" + ",".join(MCUS) + "}",
                   help="MCU preset the plan must fit (default generic)")
    p.add_argument("--cpu", type=O.cpu_name, metavar="{" + ",".join(CPUS) + "}",
                   help="CPU the plan is for (an int8 model's CMSIS-NN scratch depends on it; "
                        "default: the MCU preset's core)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Plan, print, check the fit."""
    ref = C.load_model(args, default=False)
    assert ref is not None
    mcu = get_mcu(args.mcu)
    cpu = get_cpu(resolve_cpu(mcu, args.cpu))
    plan = C.plan_for(args, ref.graph, mcu, cpu)
    try:
        check_plan_fits(plan, mcu)
        fit = None
    except LayoutError as e:
        fit = str(e)
    if args.json:
        d = plan.to_json()
        d.update(mcu=mcu.name, fits=fit is None, fit_problem=fit,
                 versions=versions(cpu, host=False))
        print(json.dumps(d, indent=2))
    else:
        render.plan_table(plan, mcu)
    if fit is not None:
        raise LayoutError(fit)
    return EXIT_OK
