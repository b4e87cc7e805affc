"""``armsim run``: any firmware image (ELF/AXF) on an MCU preset, to its first stop."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from armsim.check import compare
from armsim.cli import common as C
from armsim.cli import options as O
from armsim.cli import script_setup as S
from armsim.errors import ArmsimError
from armsim.model import keras_host as host
from armsim.ops import registry
from armsim.parts.mcus import DEFAULT_MCU
from armsim.report import tables as render
from armsim.script.check import tensors
from armsim.script.parser import parse_program
from armsim.script.target import run_script
from armsim.session.image_run import ImageRunner, parse_read
from armsim.session.results import latency_ms
from armsim.session.versions import versions
from armsim.timing.accuracy import error_words

#: Exit status when the firmware did not stop where it meant to (fault, BKPT, limits).
EXIT_FIRMWARE_FAILED = 1


def add_parser(sub: Any) -> None:
    """Register the command."""
    s = sub.add_parser(
        "run", help="run any firmware image (ELF/AXF) and report how it stopped and its cost",
        description="Load a firmware image built anywhere at its segments' load addresses, "
        "start it from its vector table (or a script's set-up), and run it to the first of: "
        "--until, a semihosting exit, a BKPT, the instruction budget, the time limit. The "
        "firmware's console output (semihosting, ITM port 0) is streamed and kept. Exit status: "
        "the firmware's semihosting exit status when it exits that way (main's return value "
        "for images built by armsim), 0 at --until, 1 for a fault, BKPT or limit (or a "
        "--check-memory finding, or a --compare mismatch), 2 for bad input.")
    s.add_argument("firmware", help="the image: an ELF (.elf) or Arm Compiler .axf")
    O.add_target(s, kernels=False)
    s.add_argument("--script", help="a uVision .ini script run first (writes, SP/PC, G, BS); "
                   "its LOAD %%L loads this image")
    O.add_script_options(s)
    s.add_argument("--until", help="stop at this function or address (a breakpoint)")
    s.add_argument("--between", nargs=2, metavar=("START", "END"),
                   help="instructions and estimated cycles from the first execution of START "
                        "to the first of END (functions or addresses), as DWT->CYCCNT read at "
                        "both would bracket them; the run stops at END")
    s.add_argument("--dwt-cycles", type=O.positive_int, metavar="N",
                   help="with --between: the cycles your board's DWT->CYCCNT counted between "
                        "START and END (same image, part, clock and flash set-up); armsim "
                        "prints its estimate's error against it")
    s.add_argument("--read", action="append", default=[], metavar="WHAT",
                   help="read memory after the run: SYMBOL[:COUNT[:TYPE]] or ADDRESS:COUNT[:TYPE]"
                        "; TYPE f32 (default), i8, u8, i16, u16, i32, u32 (repeatable)")
    s.add_argument("--out", help="save the --read values: .npy (one read) or .npz (by label)")
    s.add_argument("--compare", metavar="SYMBOL", help="with --model and --script: compare this "
                   "buffer (SYMBOL[:COUNT[:TYPE]], f32 by default) with the model's output for "
                   "the input the script wrote")
    O.add_model(s)
    O.add_tolerances(s)
    s.add_argument("--check-memory", action="store_true",
                   help="report heap overruns, use after free, stores below the stack limit and "
                        "reads of RAM never written (slower; exit 1 on a finding)")
    s.add_argument("--functions", type=O.non_negative_int, default=15,
                   help="functions shown in the cost table (default 15)")
    s.add_argument("--json", action="store_true", help="print JSON (console output is not "
                   "streamed, it is in the report)")
    s.add_argument("--max-instructions", type=O.positive_int, default=2_000_000_000,
                   help="instruction budget (default 2,000,000,000)")
    s.add_argument("--timeout", type=O.positive_float, default=300.0,
                   help="wall-clock limit in seconds (default 300)")
    O.add_clock(s)
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run, report, and return the firmware's status."""
    O.refuse(bool(args.compare) and not (args.model and args.script),
             "--compare needs --model (the host) and --script (the input it wrote)")
    O.refuse(bool(args.out) and not args.read, "--out saves --read values: give --read")
    out = O.check_output(args.out, (".npy", ".npz"), "--out") if args.out else None
    if not Path(args.firmware).is_file():
        raise ArmsimError(f"{args.firmware}: no such file")

    r = ImageRunner(args.firmware, args.mcu or DEFAULT_MCU, args.cpu,
                    None if args.json else sys.stdout, args.max_instructions, args.timeout,
                    args.check_memory)
    O.refuse(bool(args.until) and bool(args.between), "--between stops at its END: leave "
             "out --until")
    O.refuse(args.dwt_cycles is not None and not args.between, "--dwt-cycles is the board's "
             "count between two points: give them with --between START END")
    r.fetch = C.fetch_timing(args, r.mcu)
    C.apply_data_timing(args, r.machine)
    until = r.symbol_address(args.until, "--until") if args.until else None
    between = None if not args.between else (
        r.symbol_address(args.between[0], "--between START"),
        r.symbol_address(args.between[1], "--between END"))
    specs = [parse_read(t, r.image) for t in args.read]
    started = None
    compare_x = None
    if args.script:
        started, compare_x = _script(args, r)
    if args.compare:
        g = compare_x[0]  # type: ignore[index]
        n = g.tensors[g.outputs[0]].size
        specs.append(parse_read(args.compare, r.image, "f32", n))
    res = r.run_on(until, specs, started, between)
    if res.window is not None and args.dwt_cycles is not None:
        res.window = dataclasses.replace(res.window, dwt_cycles=args.dwt_cycles)
    u = r.machine.unmodelled  # opened by a script's set-up (peripherals.py)
    periph = u.summary("firmware") if u is not None else []
    cmp_row = _compare(args, res, compare_x) if args.compare else None
    if out is not None:
        vals = {k: a for k, (_s, a) in res.reads.items()}
        if out.suffix == ".npy":
            O.refuse(len(vals) != 1, "--out FILE.npy holds one --read; use .npz for several")
            np.save(out, next(iter(vals.values())))
        else:
            np.savez(out, **vals)
    res.versions = versions(res.cpu, host=bool(args.compare))
    res.peripherals, res.flash, res.clock_mhz = periph, r.fetch.note, r.fetch.clock_mhz
    if cmp_row is not None:
        res.compare = cmp_row
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
    else:
        render.image_run(res, args.functions)
        for p in periph:
            render.note(f"unmodelled peripherals: {p}")
        render.note(f"cycle estimate with {r.fetch.note}")
        if res.clock_mhz:
            render.note(f"latency: about {latency_ms(res.cycles_estimate, res.clock_mhz):,.3f} "
                        f"ms at {res.clock_mhz:g} MHz" + (
                            f", {latency_ms(res.window.cycles_estimate, res.clock_mhz):,.3f} ms "
                            "between START and END" if res.window is not None else "")
                        + f": {error_words(res.cpu.name, res.mcu.name)}")
        w = res.window
        if w is not None and w.dwt_cycles is not None:
            render.note(f"your board counted {w.dwt_cycles:,} cycles between START and END; "
                        f"armsim's estimate of {w.cycles_estimate:,.0f} is "
                        f"{w.error_pct:+.2f} % off (if the image, part, clock and flash set-up "
                        "match the board's, expect similar code on this core to be off by a "
                        "similar amount; docs/cycle-model.md has the measured error per core)")
        if res.data_memory is not None:
            render.note(render.data_memory(res.data_memory))
        if cmp_row is not None:
            render.note(f"--compare {args.compare}: max abs diff {cmp_row['max_abs_diff']:.3g}, "
                        f"{'agrees' if cmp_row['agree'] else 'DISAGREES'} with the model "
                        f"(class {cmp_row['predicted']} vs {cmp_row['host_predicted']})")
    if res.findings or (cmp_row is not None and not cmp_row["agree"]):
        return EXIT_FIRMWARE_FAILED
    if args.between and res.window is None:
        return EXIT_FIRMWARE_FAILED  # START or END never ran: nothing was measured
    if res.exit_status is not None:  # a semihosting exit: the firmware's own status
        return res.exit_status & 0xFF
    return 0 if res.stop.clean else EXIT_FIRMWARE_FAILED


def _script(args: argparse.Namespace, r: Any) -> tuple[str, Any]:
    """Run the script's set-up on the image; the model's graph and input when --compare."""
    program = parse_program(args.script)
    m = r.machine
    ref = C.load_model(args, default=False) if args.model else None
    plan = None
    if ref is not None:
        plan = C.plan_for(args, ref.graph, r.mcu, r.cpu)
    log = run_script(program, m, None, True,
                     peripherals=getattr(args, "peripherals", "model") == "model")
    S.script_log(args, log, args.script)
    started = f"after {Path(args.script).name}'s set-up (PC 0x{m.pc:08X}, " \
              f"{m.image.describe(m.pc)})"
    if ref is None or plan is None:
        return started, None

    memory = tensors(log.writes, plan)
    x = plan.read_input(memory)
    return started, (ref.graph, ref.keras, x)


def _compare(args: argparse.Namespace, res: Any, ctx: Any) -> dict[str, Any]:
    g, keras, x = ctx
    spec, got = list(res.reads.values())[-1]
    h = host.predict(keras, x[None])[0]
    c = compare.compare(got.astype(np.float32), h, args.tolerance, args.rtol,
                        classify=registry.is_classifier(g))
    return {"symbol": spec.label, "max_abs_diff": c.max_abs_diff, "agree": c.agree,
            "predicted": int(np.argmax(got)), "host_predicted": int(np.argmax(h)),
            "outputs": [float(v) for v in got], "host": [float(v) for v in h]}
