"""``armsim script check``: run scripts' set-up on the emulator and report what they write."""

from __future__ import annotations

import argparse
import json
from typing import Any

from armsim.cli import common as C
from armsim.cli import options as O
from armsim.cli import script_setup as S
from armsim.errors import EXIT_CHECK_FAILED, EXIT_OK, ArmsimError
from armsim.plan import LAYOUTS
from armsim.plan.seed import MAX_FILTERS, infer_filters, seed_graph, seed_plan
from armsim.report import tables as render
from armsim.script.check import check_types, fills
from armsim.script.parser import parse_program
from armsim.script.target import run_on_session
from armsim.session.versions import versions


def add_parser(sub: Any) -> None:
    """Register the command group."""
    sc = sub.add_parser("script", help="uVision script tools")
    scs = sc.add_subparsers(dest="script_command", required=True, metavar="{check}")
    c = scs.add_parser("check", help="run scripts' set-up on the emulator and report what "
                       "they write per buffer of the plan")
    O.add_target(c)
    c.add_argument("files", nargs="+", help=".ini scripts")
    c.add_argument("--model", help="check against this model's plan (default: the seed "
                   "layout, F inferred from the script)")
    c.add_argument("--trust-model", action="store_true", help=argparse.SUPPRESS)
    c.add_argument("--layout", choices=LAYOUTS, default="auto", help=argparse.SUPPRESS)
    c.add_argument("--base", type=O.address, help=argparse.SUPPRESS)
    c.add_argument("--weights-in", choices=("sram", "flash"), default="sram",
                   help="with --model: where the plan keeps the weights")
    c.add_argument("--filters", type=int, choices=range(1, 9), metavar="F",
                   help="seed layout F (default: inferred)")
    c.add_argument("--allow-outside-layout", action="store_true",
                   help="accept SRAM writes outside the plan's buffers")
    c.add_argument("--strict", action="store_true", help="warnings make the exit status 1")
    c.add_argument("--elf", help="run the set-up on this ELF (your firmware, %%L) instead of "
                   "armsim's seed firmware, so its symbols and source lines resolve")
    O.add_script_options(c)
    c.add_argument("--json", action="store_true")
    O.add_limits(c)
    c.set_defaults(func=run)


def check_script(path: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one script's set-up (no inference) and describe what it writes.

    With --model, against that model's plan; else against the seed layout when the script
    writes the seed's conv weights (F inferred, or --filters); else (a set-up script of
    someone's own project) against the MCU's memory map alone, with names and files the
    ELF cannot resolve reported as warnings instead of errors."""
    program = parse_program(path)
    warnings: list[str] = []
    notes: list[str] = []
    ref = C.load_model(args, default=False)
    cpu, mcu = C.target(args, None if ref is None else ref.graph)
    with_plan = True
    if ref is not None:
        g, plan = ref.graph, C.plan_for(args, ref.graph, mcu, cpu)
    else:
        f = args.filters or infer_filters(program.literal_writes())
        with_plan = f is not None
        g = seed_graph(f or MAX_FILTERS)
        plan = seed_plan(g)
        if not with_plan:
            notes.append("the script writes no seed-layout conv weights: it is checked against "
                         "the MCU's memory map only (pass --model M.keras or --filters F to "
                         "check it against a plan)")
    s = C.session(args, g, plan, cpu, mcu, load_weights=False)
    log = run_on_session(s, program, args.allow_outside_layout, lenient=not with_plan,
                         peripherals=C.peripherals_mode(args), layout=with_plan)
    notes += log.notes + [f"unmodelled peripherals: {p}" for p in log.peripherals]
    warnings += log.warnings
    written = S.write_logs(args, log.logs)
    rows = []
    if with_plan:
        check_types(log.writes, plan)
        for fl in fills(log.writes, plan):
            rows.append({"buffer": fl.name, "start": f"0x{fl.address:08X}",
                         "end": f"0x{fl.end - 1:08X}", "written": fl.written,
                         "needed": fl.needed, "coverage": fl.written / fl.needed,
                         "min": None if fl.written == 0 else fl.minimum,
                         "max": None if fl.written == 0 else fl.maximum})
            if fl.written != fl.needed:
                warnings.append(f"{fl.name}: {fl.written} of {fl.needed} values written")
        if rows and all(r["written"] == 0 for r in rows):
            warnings.append("the script writes none of the plan's buffers")
    elif not program.statements:
        warnings.append("the script has no statements: it does nothing")
    inp = next((r for r in rows if r["buffer"] == plan.input.name), None)
    if plan.preset == "seed" and inp and inp["max"] is not None and inp["max"] > 1.0 + 1e-6:
        warnings.append(f"input values reach {inp['max']:g}: the seed model expects pixels "
                        "scaled (v - 127.5) / 127.5, in -1..1 (raw 0..255 pixels?)")
    in_plan = sum(r["written"] * plan[r["buffer"]].itemsize for r in rows)
    other = int(log.writes.size.sum()) - in_plan if len(log.writes) else 0
    if other > 0 and with_plan:
        warnings.append(f"{other} bytes written outside the plan's buffers (SCS registers, "
                        "peripherals or allowed SRAM)")
    m = s.machine
    return {"file": path, "plan": plan.preset if with_plan else None,
            "model": g.name if with_plan else None, "filters": plan.filters if with_plan
            else None, "lines": len(program.lines), "writes": len(log.writes), "buffers": rows,
            "registers": {r: f"0x{m.get_reg(r):08X}" for r in ("PC", "SP", "LR", "XPSR")},
            "stopped_at": m.image.describe(m.pc),
            "peripherals": log.peripherals, "logs": log.logs, "logs_written": written,
            "notes": notes, "warnings": warnings, "errors": [],
            "versions": versions(cpu, host=False)}


def run(args: argparse.Namespace) -> int:
    """Check every file; exit 2 if a script is bad input, 1 if a set-up's run faulted (or
    with --strict and warnings)."""
    reports = []
    status = EXIT_OK
    for path in args.files:
        try:
            reports.append(check_script(path, args))
        except ArmsimError as e:
            reports.append({"file": path, "errors": [str(e)], "warnings": [], "notes": [],
                            "buffers": []})
            status = max(status, e.exit_code)
    if args.json:
        print(json.dumps(reports, indent=2))
    else:
        render.script_checks(reports)
    if status != EXIT_OK:
        return status
    if args.strict and any(r["warnings"] for r in reports):
        return EXIT_CHECK_FAILED
    return EXIT_OK
