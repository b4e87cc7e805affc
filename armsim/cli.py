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

    mdl = M.load(args.model, args.trust_model)
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

    b = build(get_cpu(args.cpu), L.seed_layout(args.filters), get_mcu(args.mcu), force=args.force,
              kernels=args.kernels)
    print(f"{b.elf} ({'cached' if b.cached else 'built'}; {b.cpu.title}, F={args.filters}, "
          f"MCU {b.mcu.name}, {b.kernels} kernels)")
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


def _script_program(path: str, filters: int | None) -> tuple[Any, L.Layout]:
    """Parse a script and choose its layout: --filters, else F inferred from its conv weights."""
    from .script.check import infer_filters
    from .script.parser import parse_program

    program = parse_program(path)
    f = filters or infer_filters(program.literal_writes())
    if f is None:
        raise ScriptError("cannot tell the number of conv filters from the script's conv "
                          "weights; pass --filters F", path)
    return program, L.seed_layout(f)


def _check_model_filters(host_model: Any, filters: int) -> None:
    """--model and --script must agree on the number of conv filters."""
    f_model = M.weights_of(host_model).filters
    if f_model != filters:
        raise ArmsimError(f"--model has {f_model} filters but the script is laid out "
                          f"for F={filters}")


def cmd_simulate(args: argparse.Namespace) -> int:
    from .simulate import Simulator

    cpu, mcu = get_cpu(args.cpu), get_mcu(args.mcu)
    host_model: Any = None
    if args.model:
        host_model = M.load(args.model, args.trust_model)
    if args.script:
        program, lay = _script_program(args.script, args.filters)
        filters = lay.filters
        if host_model is not None:
            _check_model_filters(host_model, filters)
        sim = Simulator(lay, cpu, mcu, args.max_instructions, args.timeout, args.kernels,
                        args.elf)
        log, t = sim.run_script(program, args.allow_outside_layout)
        for note in log.notes:
            print(f"armsim: {args.script}: {note}", file=sys.stderr)
        weights = M.SeedWeights.from_memory(lay, t)
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
        sim = Simulator(lay, cpu, mcu, args.max_instructions, args.timeout, args.kernels,
                        args.elf)
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
            cmp = compare.compare(inf.outputs, host_out[i], args.tolerance, args.rtol)
            r["host"] = {"predicted": int(np.argmax(host_out[i])),
                         "outputs": [float(v) for v in host_out[i]]}
            r["max_abs_diff"] = cmp.max_abs_diff
            r["max_ulp"] = cmp.max_ulp
            r["agree"] = cmp.agree
        r["versions"] = _versions(cpu)
        results.append(r)
    mismatch = any(not r.get("agree", True) for r in results)
    diagnosis = None
    if host_model is not None and (mismatch or args.layers):
        memory = t if args.script else lay.pack(weights.tensors())
        picks = [(c.name, c.image) for c, r in zip(cases, results)
                 if args.layers or not r.get("agree", True)][:3]
        diagnosis = diagnose_images(sim, host_model, memory, lay, picks, args.tolerance)
        for r in results:
            r["diagnosis"] = next((d for d in diagnosis if d["image"] == r["name"]), None)
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
    else:
        _print_table(results, cpu.title, lay.filters, args.tolerance, host_model is not None)
        if diagnosis:
            _print_diagnosis(diagnosis)
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


# -- validate ---------------------------------------------------------------------------------
def _weights_source(args: argparse.Namespace, cpu: Any, mcu: Any):
    """(host model, SeedWeights, layout, memory tensors) from --model and/or --script."""
    host_model = M.load(args.model, args.trust_model) if args.model else None
    memory: dict[str, np.ndarray] | None = None
    if getattr(args, "script", None):
        from .script.check import tensors
        from .script.runner import MemoryTarget, Runner

        program, lay = _script_program(args.script, args.filters)
        filters = lay.filters
        if program.needs_cpu:
            from .simulate import Simulator

            _log, memory = Simulator(lay, cpu, mcu).run_script(program)
        else:
            from .script.check import check_writes

            log = Runner(program, MemoryTarget(), mcu.memory_map(), lay).run()
            check_writes(log.writes, mcu.memory_map(), lay)
            memory = tensors(log.writes, lay)
        weights = M.SeedWeights.from_memory(lay, memory)
        if host_model is None:
            host_model = M.from_weights(weights)
        else:
            _check_model_filters(host_model, filters)
        return host_model, weights, lay, memory
    if host_model is None:
        host_model = M.load(data_file(DEFAULT_MODEL))
    weights = M.weights_of(host_model)
    lay = L.seed_layout(weights.filters)
    return host_model, weights, lay, lay.pack(weights.tensors())


def diagnose_images(sim: Any, host_model: Any, memory: dict[str, np.ndarray], lay: L.Layout,
                    images: list[tuple[str, np.ndarray]], tolerance: float) -> list[dict[str, Any]]:
    """Per-layer comparison and layout-mistake findings for a few images."""
    from . import diagnose as D

    model_weights = M.weights_of(host_model)
    reports = []
    for name, image in images:
        sim.write_tensors({k: v for k, v in memory.items() if k != "input"})
        inf = sim.infer(lay["input"].pack(image))
        emu = D.emulator_layers(sim.machine.read_f32, lay.filters)
        host = D.host_layers(model_weights, image, host_model)
        diffs = D.layer_diffs(host, emu)
        first = D.first_divergence(diffs)
        mem = dict(memory)
        mem["input"] = lay["input"].pack(image)
        findings = D.layout_mistakes(mem, model_weights, lay, host["softmax"], image, tolerance)
        reports.append({
            "image": name, "emulator_class": inf.predicted,
            "host_class": int(np.argmax(host["softmax"])),
            "layers": [{"layer": d.layer, "max_abs_diff": d.max_abs_diff,
                        "relative": d.relative} for d in diffs],
            "first_divergence": first.layer if first else None,
            "findings": [f.message() for f in findings],
        })
    return reports


def _print_diagnosis(reports: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(highlight=False)
    for r in reports:
        t = Table(title=f"per-layer diagnosis, {r['image']}: emulator class "
                        f"{r['emulator_class']}, host class {r['host_class']}")
        t.add_column("layer")
        t.add_column("max |Δ|", justify="right")
        t.add_column("relative", justify="right")
        for d in r["layers"]:
            t.add_row(d["layer"], f"{d['max_abs_diff']:.3g}", f"{d['relative']:.3g}")
        con.print(t)
        con.print("first diverging layer: " + (r["first_divergence"] or "none (all layers "
                  "within 1e-4 of their scale)"), markup=False, soft_wrap=True)
        for f in r["findings"]:
            con.print(f"finding: {f}", markup=False, soft_wrap=True)


def cmd_validate(args: argparse.Namespace) -> int:
    from . import validate as V
    from .build import build
    from .simulate import Simulator, packed_blocks

    cpu, mcu = get_cpu(args.cpu), get_mcu(args.mcu)
    host_model, weights, lay, memory = _weights_source(args, cpu, mcu)
    split = mnist.load("test", args.data)
    start = args.start
    n = min(args.n or len(split.images), len(split.images) - start)
    if n <= 0:
        raise DataError(f"--start {start} leaves no test images (the split has "
                        f"{len(split.images)})")
    images, labels = split.images[start:start + n], split.labels[start:start + n].astype(int)
    host = M.predict(host_model, mnist.scale(images), batch_size=1000)
    elf = build(cpu, lay, mcu, kernels=args.kernels).elf
    blocks = packed_blocks(lay, {k: v for k, v in memory.items() if k != "input"})
    jobs = args.jobs or V.default_jobs()
    if args.json or args.quiet:
        run = V.emulate(str(elf), cpu.name, mcu.name, lay.filters, blocks, images, jobs,
                        max_instructions=args.max_instructions, timeout_s=args.timeout)
    else:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(f"emulating {n} images on {jobs} process(es)", total=n)
            run = V.emulate(str(elf), cpu.name, mcu.name, lay.filters, blocks, images, jobs,
                            max_instructions=args.max_instructions, timeout_s=args.timeout,
                            progress=lambda k: bar.advance(task, k))
    res = V.summarize(labels, host, run, args.tolerance, args.rtol)
    res.update(cpu=cpu.name, kernels=args.kernels, jobs=jobs, start=start,
               versions=_versions(cpu))
    if args.layers or not res["passed"]:
        picks = res["disagreeing_images"][:3] or ([int(np.argmax(np.abs(run.outputs - host).max(1)))])
        sim = Simulator(lay, cpu, mcu, args.max_instructions, args.timeout, args.kernels)
        res["diagnosis"] = diagnose_images(
            sim, host_model, memory, lay,
            [(f"test #{start + i}", mnist.scale(images[i])) for i in picks], args.tolerance)
    if args.plot:
        V.plot_confusion(res, args.plot)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        _print_validation(res)
        if "diagnosis" in res:
            _print_diagnosis(res["diagnosis"])
    return EXIT_OK if res["passed"] else EXIT_MISMATCH


def _versions(cpu: Any = None) -> dict[str, str]:
    import platform

    import unicorn

    out = {"armsim": __version__, "unicorn": unicorn.__version__,
           "python": platform.python_version()}
    if cpu is not None:
        out["cpu_model"] = f"{cpu.title} (Unicorn UC_CPU_ARM model {cpu.uc_cpu})"
    try:
        from ._tf import import_keras

        keras = import_keras()
        import tensorflow as tf

        out.update(keras=keras.__version__, tensorflow=tf.__version__)
    except ImportError:
        pass
    return out


def _print_validation(res: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(highlight=False)
    t = Table(title=f"armsim validate: {res['n']} MNIST test images on {res['cpu']} "
                    f"({res['jobs']} process(es))")
    t.add_column("metric")
    t.add_column("value", justify="right")
    rows = [
        ("host accuracy", f"{res['host_accuracy']:.4f}"),
        ("emulator accuracy", f"{res['emulator_accuracy']:.4f}"),
        ("argmax agreement", f"{res['agreement']:.4%}"),
        ("max |emulator - host|", f"{res['max_abs_diff']:.3e}"),
        ("RMSE", f"{res['rmse']:.3e}"), ("MAE", f"{res['mae']:.3e}"),
        ("relative L2 error", f"{res['l2r']:.3e}"), ("cosine similarity", f"{res['cos']:.9f}"),
        ("mean / std of error", f"{res['mean_error']:.2e} / {res['std_error']:.2e}"),
        ("instructions per image min / median / max",
         f"{res['instructions']['min']:,} / {res['instructions']['median']:,.0f} / "
         f"{res['instructions']['max']:,}"),
        ("instructions, total", f"{res['instructions']['total']:,}"),
        ("emulation wall time", f"{res['seconds']:.2f} s ({res['images_per_second']:,.0f} images/s)"),
    ]
    for k, v in rows:
        t.add_row(k, v)
    con.print(t)
    with np.printoptions(linewidth=120):
        for side in ("host", "emulator"):
            con.print(f"\nConfusion matrix, {side} (rows: true class, columns: predicted)")
            con.print(str(np.array(res["confusion_matrix"][side])), markup=False)
            con.print(f"\nClassification report, {side}")
            con.print(res["classification_report"][side], markup=False)
    verdict = ("[green]PASS[/]: every image agrees and every output is within "
               f"{res['tolerance']:g}" if res["passed"] else
               f"[red]FAIL[/]: agreement {res['agreement']:.4%}, max |Δ| {res['max_abs_diff']:.3e} "
               f"(tolerance {res['tolerance']:g})")
    con.print(verdict)


# -- profile ----------------------------------------------------------------------------------
def _profile_input(args: argparse.Namespace, cpu: Any, mcu: Any):
    """A Simulator with weights and one input in memory, plus the host model and image."""
    from .simulate import Simulator

    if args.script:
        program, lay = _script_program(args.script, args.filters)
        sim = Simulator(lay, cpu, mcu, args.max_instructions, args.timeout, args.kernels)
        _log, t = sim.run_script(program)
        sim.write_tensors(t)
        weights = M.SeedWeights.from_memory(lay, t)
        host = M.load(args.model, args.trust_model) if args.model else None
        return sim, host, weights, lay["input"].unpack(t["input"]), Path(args.script).name
    host = M.load(args.model, args.trust_model) if args.model else M.load(data_file(DEFAULT_MODEL))
    weights = M.weights_of(host)
    lay = L.seed_layout(weights.filters)
    if args.image is not None:
        split = mnist.load("test", args.data)
        if not 0 <= args.image < len(split.images):
            raise DataError(f"--image {args.image} is out of range 0..{len(split.images) - 1}")
        image, name = mnist.scale(split.images[args.image]), f"test #{args.image}"
    else:
        imgs, _labels, idx = _load_digits()
        image, name = mnist.scale(imgs[0]), f"test #{int(idx[0])}"
    sim = Simulator(lay, cpu, mcu, args.max_instructions, args.timeout, args.kernels)
    sim.write_tensors(lay.pack({**weights.tensors(), "input": image}))
    return sim, host, weights, image, name


def cmd_profile(args: argparse.Namespace) -> int:
    from . import profile as P

    mcu = get_mcu(args.mcu)
    cpus_to_run = sorted(CPUS, key=list(CPUS).index) if args.compare_cpus else [args.cpu]
    results = []
    host_out = None
    for name in cpus_to_run:
        sim, host, weights, image, label = _profile_input(args, get_cpu(name), mcu)
        prof = P.profile(sim, args.wait_states, args.top)
        if host_out is None:
            host_out = (M.predict(host, image[None])[0] if host is not None
                        else M.reference(weights, image))
        cmp = compare.compare(np.array(prof.outputs), host_out, args.tolerance, args.rtol)
        results.append((prof, cmp))
    if args.speedscope:
        _write_speedscope(results[0][0], args.speedscope, label)
    if args.plot:
        _plot_layers([p for p, _ in results], args.plot)
    if args.json:
        out = []
        for prof, cmp in results:
            d = prof.to_json()
            d.update(input=label, host_predicted=int(np.argmax(host_out)),
                     max_abs_diff=cmp.max_abs_diff, max_ulp=cmp.max_ulp, agree=cmp.agree,
                     versions=_versions(get_cpu(prof.cpu)))
            out.append(d)
        print(json.dumps(out[0] if len(out) == 1 else out, indent=2))
    elif args.csv:
        import csv

        w = csv.writer(sys.stdout)
        w.writerow(["cpu", "function", "layer", "calls", "instructions", "cycles_estimate"])
        for prof, _ in results:
            for r in prof.functions:
                w.writerow([prof.cpu, r.name, r.layer, r.calls, r.instructions, r.cycles_estimate])
    elif args.compare_cpus:
        _print_compare(results, label)
    else:
        _print_profile(results[0][0], results[0][1], label, args.clock_mhz)
    fits = all(p.footprint["fits"] for p, _ in results)
    if not fits:
        print(f"armsim: the model does not fit {mcu.name}: "
              + "; ".join(results[0][0].footprint["fit_problems"]), file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK if all(c.agree for _, c in results) else EXIT_MISMATCH


def _write_speedscope(prof: Any, path: str, label: str) -> None:
    """The profile as a speedscope file: stacks (layer, function) weighted by instructions
    and by estimated cycles."""
    frames: list[dict[str, str]] = []
    index: dict[str, int] = {}

    def frame(name: str) -> int:
        if name not in index:
            index[name] = len(frames)
            frames.append({"name": name})
        return index[name]

    samples = [[frame(f"layer {r.layer}"), frame(r.name)] for r in prof.functions]

    def sampled(name: str, weights: list[float]) -> dict[str, Any]:
        return {"type": "sampled", "name": name, "unit": "none", "startValue": 0,
                "endValue": sum(weights), "samples": samples, "weights": weights}

    doc = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "name": f"armsim {prof.cpu_title} {label}",
        "exporter": f"armsim {__version__}",
        "activeProfileIndex": 0,
        "shared": {"frames": frames},
        "profiles": [sampled(f"{prof.cpu} instructions", [r.instructions for r in prof.functions]),
                     sampled(f"{prof.cpu} estimated cycles",
                             [r.cycles_estimate for r in prof.functions])],
    }
    Path(path).write_text(json.dumps(doc, indent=1))


def _plot_layers(profiles: list[Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .profile import LAYERS

    fig, ax = plt.subplots(figsize=(10, 5))
    width = 0.8 / max(len(profiles), 1)
    xs = np.arange(len(LAYERS))
    for i, p in enumerate(profiles):
        vals = [next(r.cycles_estimate for r in p.layers if r.layer == lay) for lay in LAYERS]
        ax.bar(xs + i * width, vals, width, label=p.cpu_title)
    ax.set_xticks(xs + width * (len(profiles) - 1) / 2, LAYERS)
    ax.set_yscale("log")
    ax.set_ylabel("estimated cycles (log scale)")
    ax.set_title("armsim profile: estimated cycles per layer (estimates, see docs/cycle-model.md)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _wide_console() -> Any:
    """A console at least 120 columns wide (tables of function names need the room)."""
    import shutil

    from rich.console import Console

    return Console(highlight=False, width=max(120, shutil.get_terminal_size((120, 24)).columns))


def _print_profile(prof: Any, cmp: Any, label: str, clock: float | None) -> None:
    from rich.table import Table

    con = _wide_console()
    lay_macs = {r.layer: r.macs for r in prof.layers}
    t = Table(title=f"armsim profile: {prof.cpu_title}, {prof.kernels} kernels, {label} "
                    f"(cycles: estimates, {prof.cycle_model})")
    for col in ("function", "layer", "calls", "instructions", "%", "est. cycles", "cycles/MAC"):
        t.add_column(col, justify="left" if col in ("function", "layer") else "right")
    for r in prof.functions:
        mac = lay_macs.get(r.layer) or 0
        t.add_row(r.name, r.layer, f"{r.calls:,}", f"{r.instructions:,}",
                  f"{100 * r.instructions / prof.total_instructions:.1f}",
                  f"{r.cycles_estimate:,.0f}", f"{r.cycles_estimate / mac:.2f}" if mac else "-")
    t.add_row("total", "", "", f"{prof.total_instructions:,}", "100.0",
              f"{prof.total_cycles_estimate:,.0f}", "", style="bold")
    con.print(t)
    lt = Table(title="per layer")
    for col in ("layer", "instructions", "est. cycles", "MACs", "instr/MAC", "cycles/MAC"):
        lt.add_column(col, justify="left" if col == "layer" else "right")
    for r in prof.layers:
        lt.add_row(r.layer, f"{r.instructions:,}", f"{r.cycles_estimate:,.0f}", f"{r.macs:,}",
                   "-" if r.instructions_per_mac is None else f"{r.instructions_per_mac:.2f}",
                   "-" if r.cycles_per_mac is None else f"{r.cycles_per_mac:.2f}")
    con.print(lt)
    fp = prof.footprint
    con.print(f"flash: {fp['flash']['total']:,} B (text {fp['flash']['text']:,}, rodata "
              f"{fp['flash']['rodata']:,}, data {fp['flash']['data']:,}) of {fp['mcu_flash']:,}",
              markup=False)
    bufs = ", ".join(f"{k} {v['bytes']:,} @ {v['address']}" for k, v in fp["buffers"].items())
    con.print(f"RAM: {fp['ram']['total']:,} B (layout buffers {fp['ram']['layout_buffers']:,} "
              f"[{bufs}]"
              f", data {fp['ram']['data']:,}, bss {fp['ram']['bss']:,}, peak stack "
              f"{fp['ram']['stack_peak']:,}) of {fp['mcu_sram']:,} on {fp['mcu']}: "
              + ("fits" if fp["fits"] else "DOES NOT FIT: " + "; ".join(fp["fit_problems"])),
              markup=False, soft_wrap=True)
    if clock:
        con.print(f"at {clock:g} MHz: about {prof.total_cycles_estimate / clock / 1000:.2f} ms "
                  "per inference (estimate)", markup=False)
    ht = Table(title="hot spots (blocks by instructions)")
    for col in ("address", "function", "source", "instructions", "%", "disassembly"):
        ht.add_column(col)
    for h in prof.hotspots:
        ht.add_row(h.address, h.function, h.source, f"{h.instructions:,}", f"{h.percent:.1f}",
                   "; ".join(x.split(": ", 1)[1] for x in h.disassembly[:3] if ": " in x))
    con.print(ht)
    con.print(f"host agreement: {'yes' if cmp.agree else 'NO'} (max |Δ| {cmp.max_abs_diff:.2e})",
              markup=False)


def _print_compare(results: list[tuple[Any, Any]], label: str) -> None:
    from rich.table import Table

    from .profile import LAYERS

    t = Table(title=f"armsim profile --compare-cpus: {label} (cycles are estimates)")
    for col in ("cpu", "instructions", "est. cycles", *[f"{x} cyc" for x in LAYERS[1:4]],
                "flash B", "stack B", "agrees"):
        t.add_column(col, justify="left" if col == "cpu" else "right")
    for prof, cmp in results:
        lc = {r.layer: r.cycles_estimate for r in prof.layers}
        t.add_row(prof.cpu_title, f"{prof.total_instructions:,}",
                  f"{prof.total_cycles_estimate:,.0f}", *[f"{lc[x]:,.0f}" for x in LAYERS[1:4]],
                  f"{prof.footprint['flash']['total']:,}", f"{prof.footprint['ram']['stack_peak']:,}",
                  "yes" if cmp.agree else f"NO ({cmp.max_abs_diff:.1e})")
    _wide_console().print(t)


# -- regress ----------------------------------------------------------------------------------
def _totals(data: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v['total']:,}" for k, v in data["variants"].items())


def cmd_regress(args: argparse.Namespace) -> int:
    from . import regress as R

    now = R.measure(data_file(DEFAULT_MODEL), _load_digits())
    path = R.baseline_path()
    if args.update:
        R.save_baseline(now)
        print(f"wrote {path}: {_totals(now)}")
        return EXIT_OK
    if not path.is_file():
        raise ArmsimError(f"no baseline at {path}: run 'armsim regress --update' to create it")
    base = R.load_baseline(path)
    changes = R.compare(base, now)
    if args.json:
        print(json.dumps({"changes": [dict(zip(("variant", "function", "baseline", "now"), c))
                                      for c in changes], "baseline": str(path)}, indent=2))
    elif changes:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"instruction counts changed against {path}")
        for col in ("variant", "function", "baseline", "now", "change"):
            t.add_column(col, justify="right" if col in ("baseline", "now", "change") else "left")
        for v, fn, b, n in changes:
            delta = "" if b is None or n is None else f"{n - b:+,}"
            t.add_row(v, fn, "-" if b is None else f"{b:,}", "-" if n is None else f"{n:,}", delta)
        Console().print(t)
        if base.get("toolchain") != now.get("toolchain"):
            print(f"note: toolchain differs: baseline '{base.get('toolchain')}', "
                  f"now '{now.get('toolchain')}'")
        print("if the change is intended: armsim regress --update")
    else:
        print(f"instruction counts match {path} ({_totals(now)})")
    return EXIT_MISMATCH if changes else EXIT_OK


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
    if filters is None:  # a set-up-only script: check it against the largest layout
        filters = L.MAX_FILTERS
        warnings.append(f"cannot tell F from the conv weights; checked against F={filters}")
    lay = L.seed_layout(filters)
    sim = Simulator(lay, get_cpu(args.cpu), get_mcu(args.mcu), kernels=args.kernels)
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
            "warnings": warnings, "errors": [], "versions": _versions(get_cpu(args.cpu))}


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
def _trust(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trust-model", action="store_true",
                   help="load legacy .h5 files and models that need safe_mode off (they can "
                        "run code: only for files you trust)")


def _tolerances(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tolerance", "--atol", type=float, default=compare.DEFAULT_TOLERANCE,
                   dest="tolerance", help="absolute tolerance per output (default 1e-5)")
    p.add_argument("--rtol", type=float, default=0.0,
                   help="relative tolerance per output, added to the absolute (default 0)")


def _common(p: argparse.ArgumentParser) -> None:
    from .build import DEFAULT_KERNELS, KERNEL_SETS

    p.add_argument("--cpu", default=DEFAULT_CPU, choices=sorted(CPUS),
                   help=f"CPU variant (default {DEFAULT_CPU})")
    p.add_argument("--kernels", default=DEFAULT_KERNELS, choices=KERNEL_SETS,
                   help=f"kernel set (default {DEFAULT_KERNELS})")
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
    _trust(e)
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
    _tolerances(s)
    _trust(s)
    s.add_argument("--elf", help="run this ELF instead of building the kernels (it must have "
                   "the armsim symbols and the seed layout)")
    s.add_argument("--no-host", action="store_true", help="with --script and no --model: "
                   "skip the host comparison")
    s.add_argument("--layers", action="store_true",
                   help="per-layer diagnosis even when everything agrees")
    s.add_argument("--allow-outside-layout", action="store_true",
                   help="accept script writes to SRAM outside the layout buffers")
    s.add_argument("--max-instructions", type=_positive, default=50_000_000)
    s.add_argument("--timeout", type=float, default=30.0, help="wall-clock limit in seconds")
    s.set_defaults(func=cmd_simulate)

    v = sub.add_parser("validate", help="MNIST test images through emulator and Keras")
    _common(v)
    v.add_argument("--model", help=".keras model (default: the bundled one)")
    v.add_argument("--script", help="take the weights from this uVision script instead")
    v.add_argument("--filters", type=_filters, help="with --script: layout F")
    v.add_argument("--data", help=data_help)
    v.add_argument("--n", type=_positive, help="number of test images (default: all 10,000)")
    v.add_argument("--start", type=int, default=0, help="first test image index")
    v.add_argument("--jobs", type=_positive, help="worker processes (default: all cores)")
    v.add_argument("--json", action="store_true")
    v.add_argument("--plot", help="write the confusion matrices as a PNG")
    v.add_argument("--layers", action="store_true",
                   help="per-layer diagnosis even when everything agrees")
    _tolerances(v)
    _trust(v)
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.add_argument("--max-instructions", type=_positive, default=50_000_000)
    v.add_argument("--timeout", type=float, default=30.0)
    v.set_defaults(func=cmd_validate)

    pr = sub.add_parser("profile", help="instructions per function and layer, estimated "
                        "cycles, footprint, hot spots")
    _common(pr)
    pr.add_argument("--model", help=".keras model (default: the bundled one)")
    pr.add_argument("--script", help="profile the weights and input of this uVision script")
    pr.add_argument("--filters", type=_filters, help="with --script: layout F")
    pr.add_argument("--image", type=int, help="MNIST test image index (default: a bundled digit)")
    pr.add_argument("--data", help=data_help)
    pr.add_argument("--json", action="store_true")
    pr.add_argument("--csv", action="store_true", help="function rows as CSV on stdout")
    pr.add_argument("--speedscope", help="write a speedscope profile (JSON)")
    pr.add_argument("--plot", help="write per-layer estimated cycles as a PNG")
    pr.add_argument("--compare-cpus", action="store_true", help="every CPU variant in one table")
    pr.add_argument("--wait-states", type=int, default=0, help="flash wait states (default 0)")
    pr.add_argument("--clock-mhz", type=float, help="print the estimated time at this clock")
    pr.add_argument("--top", type=int, default=10, help="hot spots to list")
    _tolerances(pr)
    _trust(pr)
    pr.add_argument("--max-instructions", type=_positive, default=50_000_000)
    pr.add_argument("--timeout", type=float, default=60.0)
    pr.set_defaults(func=cmd_profile)

    r = sub.add_parser("regress", help="compare exact instruction counts with the baseline")
    r.add_argument("--update", action="store_true", help="rewrite the baseline on purpose")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_regress)

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
