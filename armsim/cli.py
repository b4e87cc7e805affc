"""The ``armsim`` command: train, export, build, simulate."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import __version__, compare, mnist
from . import layout as L
from . import model as M
from .cpus import CPUS, DEFAULT_CPU, get_cpu
from .errors import ArmsimError, DataError, ScriptError
from .mcu import DEFAULT_MCU, MCUS, get_mcu

EXIT_OK, EXIT_MISMATCH, EXIT_BAD_INPUT = 0, 1, 2


def data_file(name: str) -> Path:
    """A file bundled in armsim/data."""
    return Path(str(resources.files("armsim") / "data" / name))


DEFAULT_MODEL = "default_model.keras"
DIGITS = "digits.npz"


# -- train ------------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    from .train import save, train

    res = train(args.data, args.filters, args.epochs, args.seed, args.batch_size, args.limit,
                verbose=0 if args.quiet else 1)
    print(f"\nTest accuracy: {res.accuracy:.4f}\n")
    print("Confusion matrix (rows: true class, columns: predicted)")
    with np.printoptions(linewidth=120):
        print(res.confusion)
    print("\nClassification report")
    print(res.report)
    command = "armsim " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    side = save(res, Path(args.out), command, args.seed, args.epochs)
    print(f"\nSaved {args.out} (how it was made: {side})")
    return EXIT_OK


# -- export -----------------------------------------------------------------------------------
def cmd_export(args: argparse.Namespace) -> int:
    from .script.writer import hex_format, seed_format

    mdl = M.load(args.model)
    w = M.weights_of(mdl)
    split = mnist.load(args.split, args.data)
    if not 0 <= args.image < len(split.images):
        raise DataError(f"--image {args.image} is out of range: the {args.split} split has "
                        f"{len(split.images)} images (0..{len(split.images) - 1})")
    image = mnist.scale(split.images[args.image])
    lay = L.seed_layout(w.filters)
    packed = lay.pack({**w.tensors(), "input": image})
    if args.format == "seed":
        text = seed_format(lay, packed)
    else:
        text = hex_format(lay, packed, [
            f"armsim {__version__} export, seed layout F={w.filters}",
            f"model: {args.model}",
            f"image: MNIST {args.split} #{args.image}, label {int(split.labels[args.image])}",
        ])
    out = Path(args.out)
    out.write_text(text, newline="\n")
    print(f"wrote {out}: {text.count(chr(10))} lines ({args.format} format), "
          f"MNIST {args.split} image {args.image} (label {int(split.labels[args.image])})")
    return EXIT_OK


# -- build ------------------------------------------------------------------------------------
def cmd_build(args: argparse.Namespace) -> int:
    from .build import build

    b = build(get_cpu(args.cpu), L.seed_layout(args.filters), get_mcu(args.mcu), force=args.force)
    print(f"{b.elf} ({'cached' if b.cached else 'built'}; {b.cpu.title}, F={args.filters}, "
          f"MCU {b.mcu.name})")
    return EXIT_OK


# -- simulate ---------------------------------------------------------------------------------
@dataclass
class Case:
    """One input to simulate: its tensors in memory order and how to get the host answer."""

    name: str
    label: int | None
    image: np.ndarray  # Keras shape (28, 28, 1)


def _load_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(data_file(DIGITS)) as z:
        return z["images"], z["labels"], z["indices"]


def cmd_simulate(args: argparse.Namespace) -> int:
    from .simulate import Simulator

    cpu, mcu = get_cpu(args.cpu), get_mcu(args.mcu)
    host_model: Any = None
    if args.model:
        host_model = M.load(args.model)
    if args.script:
        from .script.check import infer_filters
        from .script.parser import parse_program

        program = parse_program(args.script)
        filters = args.filters or infer_filters(program.literal_writes())
        if filters is None:
            raise ScriptError("cannot tell the number of conv filters from the script's conv "
                              "weights; pass --filters F", args.script)
        lay = L.seed_layout(filters)
        if host_model is not None:
            f_model = M.weights_of(host_model).filters
            if f_model != filters:
                raise ArmsimError(f"--model has {f_model} filters but the script is laid out "
                                  f"for F={filters}")
        sim = Simulator(lay, cpu, mcu, args.max_instructions, args.timeout)
        log, t = sim.run_script(program, args.allow_outside_layout)
        for note in log.notes:
            print(f"armsim: {args.script}: {note}", file=sys.stderr)
        weights = M.SeedWeights.from_tensors({k: lay[k].unpack(v) for k, v in t.items()
                                              if k != "input"})
        if host_model is None and not args.no_host:
            host_model = M.from_weights(weights)
        cases = [Case(Path(args.script).name, None, lay["input"].unpack(t["input"]))]
    else:
        if host_model is None:
            host_model = M.load(data_file(DEFAULT_MODEL))
        weights = M.weights_of(host_model)
        lay = L.seed_layout(weights.filters)
        if args.filters and args.filters != weights.filters:
            raise ArmsimError(f"--filters {args.filters} but the model has {weights.filters}")
        if args.image:
            split = mnist.load("test", args.data)
            for i in args.image:
                if not 0 <= i < len(split.images):
                    raise DataError(f"--image {i} is out of range 0..{len(split.images) - 1}")
            cases = [Case(f"test #{i}", int(split.labels[i]), mnist.scale(split.images[i]))
                     for i in args.image]
        else:
            imgs, labels, idx = _load_digits()
            cases = [Case(f"test #{int(i)}", int(lab), mnist.scale(im))
                     for im, lab, i in zip(imgs, labels, idx)]
        sim = Simulator(lay, cpu, mcu, args.max_instructions, args.timeout)
        sim.write_tensors(lay.pack(weights.tensors()))
    if host_model is not None:
        host_out = M.predict(host_model, np.stack([c.image for c in cases]))
    results = []
    for i, c in enumerate(cases):
        inf = sim.finish() if args.script else sim.infer(lay["input"].pack(c.image))
        r: dict[str, Any] = {"name": c.name, "predicted": inf.predicted,
                             "outputs": [float(v) for v in inf.outputs],
                             "instructions": inf.stats.instructions, "cpu": cpu.name}
        if c.label is not None:
            r["label"] = c.label
        if host_model is not None:
            cmp = compare.compare(inf.outputs, host_out[i], args.tolerance)
            r["host"] = {"predicted": int(np.argmax(host_out[i])),
                         "outputs": [float(v) for v in host_out[i]]}
            r["max_abs_diff"] = cmp.max_abs_diff
            r["agree"] = cmp.agree
        results.append(r)
    mismatch = any(not r.get("agree", True) for r in results)
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
    else:
        _print_table(results, cpu.title, lay.filters, args.tolerance, host_model is not None)
    return EXIT_MISMATCH if mismatch else EXIT_OK


def _print_table(results: list[dict[str, Any]], cpu: str, filters: int, tol: float,
                 has_host: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"armsim simulate: seed CNN (F={filters}) on {cpu} (Unicorn)")
    t.add_column("input")
    t.add_column("label", justify="right")
    t.add_column("emulator", justify="right")
    t.add_column("host", justify="right")
    t.add_column("max |Δ|", justify="right")
    t.add_column("instructions", justify="right")
    t.add_column("ok")
    for r in results:
        ok = r.get("agree")
        t.add_row(r["name"], str(r.get("label", "")), str(r["predicted"]),
                  str(r["host"]["predicted"]) if "host" in r else "-",
                  f"{r['max_abs_diff']:.2e}" if "max_abs_diff" in r else "-",
                  f"{r['instructions']:,}",
                  "-" if ok is None else ("[green]yes[/]" if ok else "[red]NO[/]"))
    con = Console()
    con.print(t)
    if has_host:
        bad = sum(1 for r in results if not r.get("agree"))
        con.print(f"{len(results) - bad}/{len(results)} agree with the host Keras model "
                  f"(same class, every output within {tol:g}).", highlight=False)


# -- script check -----------------------------------------------------------------------------
def check_script(path: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one script on the emulator (no inference) and describe what it writes."""
    from .script.check import fills, infer_filters
    from .script.parser import parse_program
    from .script.runner import Runner
    from .script.target import MachineTarget
    from .simulate import Simulator

    program = parse_program(path)
    warnings: list[str] = []
    filters = args.filters or infer_filters(program.literal_writes())
    if filters is None:
        filters = L.MAX_FILTERS
        warnings.append(f"cannot tell F from the conv weights; checked against F={filters}")
    lay = L.seed_layout(filters)
    sim = Simulator(lay, get_cpu(args.cpu), get_mcu(args.mcu))
    sim.machine.begin()
    log = Runner(program, MachineTarget(sim.machine), sim.machine.map, lay,
                 args.allow_outside_layout).run()
    rows = []
    for f in fills(log.writes, lay):
        cover = f.written / f.needed
        rows.append({"buffer": f.name, "start": f"0x{f.address:08X}", "end": f"0x{f.end - 1:08X}",
                     "written": f.written, "needed": f.needed, "coverage": cover,
                     "min": None if f.written == 0 else f.minimum,
                     "max": None if f.written == 0 else f.maximum})
        if f.written != f.needed:
            warnings.append(f"{f.name}: {f.written} of {f.needed} values written (F={filters})")
    in_layout = sum(r["written"] for r in rows) * 4
    other = int(log.writes.size.sum()) - in_layout if len(log.writes) else 0
    if other > 0:
        warnings.append(f"{other} bytes written outside the layout buffers (SCS registers or "
                        "allowed SRAM)")
    return {"file": path, "filters": filters, "lines": len(program.lines),
            "writes": len(log.writes), "buffers": rows, "notes": log.notes,
            "warnings": warnings, "errors": []}


def cmd_script_check(args: argparse.Namespace) -> int:
    reports = []
    for path in args.files:
        try:
            reports.append(check_script(path, args))
        except ArmsimError as e:
            reports.append({"file": path, "errors": [str(e)], "warnings": [], "notes": [],
                            "buffers": []})
    if args.json:
        print(json.dumps(reports, indent=2))
    else:
        _print_checks(reports)
    return EXIT_BAD_INPUT if any(r["errors"] for r in reports) else EXIT_OK


def _print_checks(reports: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(highlight=False)
    for r in reports:
        if r["buffers"]:
            t = Table(title=f"{r['file']}: {r['lines']} lines, {r['writes']} writes, "
                            f"layout F={r['filters']}")
            for col in ("buffer", "range", "written", "coverage", "min", "max"):
                t.add_column(col, justify="left" if col in ("buffer", "range") else "right")
            for b in r["buffers"]:
                t.add_row(b["buffer"], f"{b['start']}-{b['end']}",
                          f"{b['written']}/{b['needed']}", f"{100 * b['coverage']:.0f}%",
                          "-" if b["min"] is None else f"{b['min']:.6g}",
                          "-" if b["max"] is None else f"{b['max']:.6g}")
            con.print(t)
        for n in r["notes"]:
            con.print(f"note: {n}", markup=False, soft_wrap=True)
        for w in r["warnings"]:
            con.print(f"warning: {w}", markup=False, style="yellow", soft_wrap=True)
        for e in r["errors"]:
            print(f"armsim: error: {e}", file=sys.stderr)
        if not r["errors"]:
            con.print(f"{r['file']}: ok", markup=False, soft_wrap=True)


# -- parser -----------------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cpu", default=DEFAULT_CPU, choices=sorted(CPUS),
                   help=f"CPU variant (default {DEFAULT_CPU})")
    p.add_argument("--mcu", default=DEFAULT_MCU, choices=sorted(MCUS),
                   help=f"MCU preset: memory sizes (default {DEFAULT_MCU})")


def _positive(text: str) -> int:
    v = int(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {v}")
    return v


def _filters(text: str) -> int:
    v = int(text)
    if not 1 <= v <= L.MAX_FILTERS:
        raise argparse.ArgumentTypeError(f"the seed layout holds 1..{L.MAX_FILTERS} filters")
    return v


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    p = argparse.ArgumentParser(prog="armsim", description=__doc__)
    p.add_argument("--version", action="version", version=f"armsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    data_help = f"MNIST IDX directory (default ${mnist.ENV_VAR}, else keras.datasets.mnist)"

    t = sub.add_parser("train", help="train the seed CNN on MNIST and save it")
    t.add_argument("--data", help=data_help)
    t.add_argument("--filters", type=_filters, default=L.MAX_FILTERS)
    t.add_argument("--epochs", type=_positive, default=5)
    t.add_argument("--batch-size", type=_positive, default=32)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--limit", type=_positive, help="train on the first N images only")
    t.add_argument("--out", default="model.keras", help="where to save (.keras)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("export", help="write weights and one image as a uVision script")
    e.add_argument("model", help="a .keras model of the seed architecture")
    e.add_argument("--image", type=int, required=True, help="MNIST image index")
    e.add_argument("--split", choices=("test", "train"), default="test")
    e.add_argument("--data", help=data_help)
    e.add_argument("--out", required=True, help="output .ini file")
    e.add_argument("--format", choices=("seed", "hex"), default="seed")
    e.set_defaults(func=cmd_export)

    b = sub.add_parser("build", help="cross-compile the kernels (cached)")
    _common(b)
    b.add_argument("--filters", type=_filters, default=L.MAX_FILTERS)
    b.add_argument("--force", action="store_true", help="rebuild even if cached")
    b.set_defaults(func=cmd_build)

    s = sub.add_parser("simulate", help="run the network in the emulator and compare with Keras")
    _common(s)
    s.add_argument("--script", help="a uVision .ini script with weights and input")
    s.add_argument("--filters", type=_filters, help="conv filters of the script's layout "
                   "(default: inferred from the script)")
    s.add_argument("--model", help=".keras model for the host comparison (default: the bundled "
                   "model, or with --script the seed architecture rebuilt from its weights)")
    s.add_argument("--image", type=int, action="append",
                   help="MNIST test image index (repeatable; needs --data or the env variable)")
    s.add_argument("--data", help=data_help)
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.add_argument("--tolerance", type=float, default=compare.DEFAULT_TOLERANCE,
                   help="max |emulator - host| per output (default 1e-5)")
    s.add_argument("--no-host", action="store_true", help="with --script and no --model: "
                   "skip the host comparison")
    s.add_argument("--allow-outside-layout", action="store_true",
                   help="accept script writes to SRAM outside the layout buffers")
    s.add_argument("--max-instructions", type=_positive, default=50_000_000)
    s.add_argument("--timeout", type=float, default=30.0, help="wall-clock limit in seconds")
    s.set_defaults(func=cmd_simulate)

    sc = sub.add_parser("script", help="uVision script tools")
    scs = sc.add_subparsers(dest="script_command", required=True)
    c = scs.add_parser("check", help="run scripts' set-up on the emulator and report what "
                       "they write per layout buffer")
    _common(c)
    c.add_argument("files", nargs="+", help=".ini scripts")
    c.add_argument("--filters", type=_filters, help="layout F (default: inferred)")
    c.add_argument("--allow-outside-layout", action="store_true",
                   help="accept SRAM writes outside the layout buffers")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_script_check)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 0 ok, 1 emulator/host mismatch, 2 bad input."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ArmsimError as e:
        sys.stdout.flush()
        print(f"armsim: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("armsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
