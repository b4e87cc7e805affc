"""``armsim profile``: exact instructions per op, layer and function; estimated cycles;
footprint; hot spots."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

import numpy as np

from armsim import __version__
from armsim.check import compare
from armsim.check.int8 import quantized_inputs
from armsim.cli import common as C
from armsim.cli import options as O
from armsim.cli import script_setup as S
from armsim.cli import tflm
from armsim.cli.quantize import calibration_inputs
from armsim.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK
from armsim.firmware.tflm.library import DEFAULT_KERNELS as TFLM_DEFAULT_KERNELS
from armsim.firmware.toolchain import cache_dir
from armsim.model import inputs
from armsim.model import keras_host as host
from armsim.model.frontends import tflite as T
from armsim.model.quantize import quantize
from armsim.ops import registry
from armsim.parts.cpus import CPUS, get_cpu
from armsim.report import html as report
from armsim.report import tables as render
from armsim.report import tflm as view
from armsim.session import profile as P
from armsim.session.results import latency_ms
from armsim.session.versions import versions


def add_parser(sub: Any) -> None:
    """Register the command."""
    pr = sub.add_parser("profile", help="instructions per op and function, estimated cycles, "
                        "footprint, hot spots")
    O.add_target(pr)
    O.add_runtime(pr)
    O.add_host(pr)
    O.add_model(pr)
    pr.add_argument("--script", help="profile the weights and input of this uVision script")
    O.add_script_options(pr)
    pr.add_argument("--filters", type=int, choices=range(1, 9), metavar="F",
                    help="with --script and no --model: seed layout F")
    pr.add_argument("--image", type=O.non_negative_int,
                    help="MNIST test image index (default: a bundled digit)")
    O.add_inputs(pr, "profile the first input of this .npy/.npz")
    O.add_data(pr)
    out = pr.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--csv", action="store_true", help="function rows as CSV on stdout")
    pr.add_argument("--speedscope", help="write a speedscope profile (JSON)")
    pr.add_argument("--plot", help="write per-op estimated cycles as a PNG")
    pr.add_argument("--html", help="write the profile as a self-contained HTML page")
    pr.add_argument("--compare-cpus", action="store_true", help="every CPU variant in one table")
    pr.add_argument("--compare-runtimes", action="store_true",
                    help="armsim's generated code and TFLM (each on its default kernels) for "
                         "the same --model in one table: instructions, cycles, latency, flash, "
                         "RAM, agreement")
    pr.add_argument("--compare-dtypes", action="store_true",
                    help="float32 and int8 of the same --model M.keras in one table (int8: "
                         "quantized as `armsim quantize` does, or --int8-model)")
    pr.add_argument("--int8-model", help="with --compare-dtypes: the int8 .tflite of the model")
    pr.add_argument("--calibration", type=O.positive_int, default=200, metavar="N",
                    help="with --compare-dtypes and no --int8-model: calibration inputs "
                         "(default 200)")
    pr.add_argument("--wait-states", type=O.non_negative_int, default=0,
                    help="flash wait states by hand, prefetch on (default: the MCU preset's "
                    "table at --clock-mhz; 0 without one)")
    O.add_clock(pr)
    pr.add_argument("--top", type=O.non_negative_int, default=10, help="hot spots to list")
    O.add_elf_no_host(pr)
    O.add_tolerances(pr)
    O.add_sources(pr)
    O.add_limits(pr)
    pr.set_defaults(func=run)


def _profile(args: argparse.Namespace, s: Any, x: np.ndarray) -> P.Profile:
    """One profile with the memory timing the options gave its session (C.session: the
    flash set-up and clock, and the M7's SRAM)."""
    return P.profile(s, x, s.fetch, args.top)


def run(args: argparse.Namespace) -> int:
    """Profile one inference on one or every CPU."""
    speedscope = O.check_output(args.speedscope, (".json", ".speedscope"), "--speedscope")
    plot = O.check_output(args.plot, (".png",), "--plot")
    page = O.check_output(args.html, (".html", ".htm"), "--html") if args.html else None
    O.refuse(bool(args.script) and (args.image is not None or bool(args.inputs)),
             "--script carries its own input: --image/--inputs cannot be used with it")
    O.check_no_host(args)
    O.refuse(bool(args.elf) and args.compare_cpus, "--elf is one firmware for one CPU: leave "
             "out --compare-cpus")
    O.refuse(args.compare_cpus and args.cpu is not None,
             "--compare-cpus runs every CPU: leave --cpu out")
    O.refuse(bool(args.int8_model) and not args.compare_dtypes,
             "--int8-model applies with --compare-dtypes")
    if args.compare_runtimes:
        O.refuse(args.compare_cpus or args.compare_dtypes or bool(args.script) or
                 bool(args.sources) or bool(args.elf), "--compare-runtimes profiles one --model "
                 "on one CPU under both runtimes: leave out --compare-cpus, --compare-dtypes, "
                 "--script, --sources and --elf")
        return compare_runtimes(args)
    if args.runtime == "tflm":
        O.refuse_with_tflm(args, "script", "sources", "elf", "compare_cpus", "compare_dtypes",
                           "speedscope", "plot", "html", "csv")
        return tflm.profile(args, lambda mcu: C.fetch_timing(args, mcu))
    if args.compare_dtypes:
        O.refuse(args.compare_cpus or bool(args.script), "--compare-dtypes profiles one "
                 "--model on one CPU: leave out --compare-cpus and --script")
        return compare_dtypes(args)
    ref = None if args.script else C.load_model(args)
    names: list[str | None] = list(CPUS) if args.compare_cpus else [None]
    results = []
    host_out = None
    label = ""
    for name in names:
        if args.script:
            st = S.script_setup(args, args.no_host, cpu_name=name)
            s, keras, x = st.session, st.host, st.x
            s.write_buffers(st.memory)
            label = args.script
        else:
            mr = C.model_run(args, ref, cpu_name=name)
            case = C.cases(args, mr.graph)[0][0]
            s, keras, x, label = mr.session, mr.keras, case.x, case.name
            if mr.graph.quantized:
                x, host_out = _int8_input(mr, x, args)
        prof = _profile(args, s, x)
        if host_out is None and keras is not None:
            host_out = host.predict(keras, inputs.stack([x]))[0]
        cmp = None if host_out is None else compare.compare(
            np.array(prof.outputs), host_out, args.tolerance, args.rtol,
            classify=registry.is_classifier(s.graph))
        prof.input, prof.versions = label, versions(get_cpu(prof.cpu))
        if cmp is not None:
            prof.host_predicted = int(np.argmax(host_out)) if prof.predicted is not None \
                else None
            prof.max_abs_diff, prof.max_ulp, prof.agree = cmp.max_abs_diff, cmp.max_ulp, \
                cmp.agree
        results.append((prof, cmp))
    if speedscope is not None:
        write_speedscope(results[0][0], speedscope, label)
    if plot is not None:
        plot_ops([p for p, _ in results], str(plot))
    if page is not None:
        prof0 = results[0][0]
        report.write(page, report.profile_report(prof0, f"armsim profile: {prof0.model} on "
                                                 f"{prof0.cpu_title} ({label})"))
        if not (args.json or args.csv):
            render.note(f"wrote {page}")
    if args.json:
        out = []
        for prof, cmp in results:
            out.append(prof.to_json())
        print(json.dumps(out[0] if len(out) == 1 else out, indent=2))
    elif args.csv:
        w = csv.writer(sys.stdout)
        w.writerow(["cpu", "function", "op", "calls", "instructions", "cycles_estimate"])
        for prof, _ in results:
            for r in prof.functions:
                w.writerow([prof.cpu, r.name, r.layer, r.calls, r.instructions, r.cycles_estimate])
    elif args.compare_cpus:
        render.profile_compare(results, label)
    else:
        render.profile(results[0][0], results[0][1], label)
    if plot is not None and not (args.json or args.csv):
        render.note(f"wrote {plot}")
    if speedscope is not None and not (args.json or args.csv):
        render.note(f"wrote {speedscope}")
    if not all(p.footprint["fits"] for p, _ in results):
        print(f"armsim: error: the model does not fit {results[0][0].footprint['mcu']}: "
              + "; ".join(results[0][0].footprint["fit_problems"]), file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK if all(c is None or c.agree for _, c in results) else EXIT_CHECK_FAILED


def compare_runtimes(args: argparse.Namespace) -> int:
    """armsim's generated firmware and TFLM, each on its default kernel set, for one model
    and input on one CPU: instructions, cycles, latency, flash, RAM and agreement."""
    fm, _path, _converted = tflm.model_file(args)
    ref = C.load_model(args)
    assert ref is not None
    mr = C.model_run(args, ref)
    O.refuse(len(fm.inputs) != 1, "--compare-runtimes feeds one input tensor")
    case = tflm.model_cases(args, fm)[0][0]  # the same input for both runtimes
    shape = mr.graph.tensors[mr.graph.inputs[0]].shape
    x, host_out = np.asarray(case.xs[0]).reshape(shape), None
    if not mr.graph.quantized:
        x = x.astype(np.float32)
    if mr.graph.quantized:
        x, host_out = _int8_input(mr, x, args)
    prof = _profile(args, mr.session, x)
    if host_out is None and mr.keras is not None:
        host_out = host.predict(mr.keras, inputs.stack([x]))[0]
    cmp = None if host_out is None else compare.compare(
        np.array(prof.outputs), host_out, 0 if mr.graph.quantized else args.tolerance,
        0 if mr.graph.quantized else args.rtol, classify=registry.is_classifier(mr.graph))
    clock = prof.clock_mhz  # the same clock (and flash set-up) for both runtimes
    fp = prof.footprint
    rows = [{"runtime": "armsim", "kernels": mr.session.build.kernels,
             "instructions": prof.total_instructions,
             "cycles_estimate": prof.total_cycles_estimate,
             "ms": latency_ms(prof.total_cycles_estimate, clock), "flash": fp["flash"]["total"],
             "ram": fp["ram"]["total"],
             "agrees": "-" if cmp is None else ("yes" if cmp.agree else "NO")}]
    tx = case.xs
    targs = argparse.Namespace(**{**vars(args), "runtime": "tflm",
                                  "kernels": TFLM_DEFAULT_KERNELS, "cpu": mr.cpu.name,
                                  "mcu": mr.mcu.name})
    s = tflm.session(targs, fm)
    tp = tflm.S.profile(s, tx, C.fetch_timing(args, s.mcu))
    hosts = tflm.Hosts(fm, _path)
    t_host, _second = hosts.run(tx)
    t_agree = None if t_host is None else tflm.T.compare(fm.outputs, tp.outputs, t_host,
                                                         args.tolerance, args.rtol).agree
    tfp = tp.footprint
    rows.append({"runtime": "tflm", "kernels": s.kernels, "instructions": tp.instructions,
                 "cycles_estimate": tp.cycles_estimate,
                 "ms": latency_ms(tp.cycles_estimate, clock), "flash": tfp["flash"]["total"],
                 "ram": tfp["ram"]["total"],
                 "agrees": "-" if t_agree is None else ("yes" if t_agree else "NO")})
    for r in rows:
        r["cycles_estimate"] = round(r["cycles_estimate"], 1)
        r["ms"] = round(r["ms"], 4)
    if args.json:
        print(json.dumps({"model": fm.name, "cpu": mr.cpu.name, "mcu": mr.mcu.name,
                          "clock_mhz": clock, "input": case.name, "runtimes": rows,
                          "versions": versions(mr.cpu, tflite=True, tflm=True)}, indent=2))
    else:
        view.runtimes(rows, f"armsim profile --compare-runtimes: {fm.name} on {mr.cpu.title}, "
                      f"{case.name} (cycles are estimates; ms at {clock:g} MHz)")
    agreed = all(r["agrees"] != "NO" for r in rows)
    return EXIT_OK if agreed else EXIT_CHECK_FAILED


def _int8_input(mr: Any, x: np.ndarray, args: argparse.Namespace
                ) -> tuple[np.ndarray, np.ndarray]:
    """An int8 model's input (quantized if given as float) and the interpreter's int8
    outputs for it (compared exactly: tolerance 0 is applied by the caller's compare)."""
    h, _second = C.int8_reference(args, mr.keras, mr.graph)
    xq, xf, _how = quantized_inputs(mr.graph, h, inputs.stack([x]))
    h.invoke(xf[0] if mr.graph.float_edges[0] else xq[0])
    return xq[0], h.outputs_q().astype(np.float64)


def compare_dtypes(args: argparse.Namespace) -> int:
    """float32 and int8 of one model on one CPU: per-op and total instructions, cycles,
    flash and RAM."""
    ref = C.load_model(args)
    assert ref is not None
    O.refuse(ref.graph.quantized, "--compare-dtypes takes the float32 .keras model as --model "
             "(and the int8 one as --int8-model)")
    if args.int8_model:
        qref = C.load_model(argparse.Namespace(model=args.int8_model, trust_model=False))
        assert qref is not None
        O.refuse(not qref.graph.quantized, f"--int8-model {args.int8_model}: not an int8 "
                 ".tflite model")
        made = f"from {args.int8_model}"
    else:
        xs, what = calibration_inputs(args, ref.graph, args.calibration)
        out = cache_dir().parent / "quantized"
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{ref.graph.name}-{args.calibration}.tflite"
        quantize(ref.keras, xs, path)
        qref = C.ModelRef(T.load(path), path, str(path))
        made = f"quantized on {what}"
    rows = []
    mr = C.model_run(args, ref)
    case = C.cases(args, mr.graph)[0][0]
    pf = _profile(args, mr.session, case.x)
    qargs = argparse.Namespace(**{**vars(args), "model": qref.path})  # int8's own kernels
    mq = C.model_run(qargs, qref, cpu_name=mr.cpu.name)
    xf = inputs.reorder(case.x, mr.graph, mq.graph)
    xq, host_q = _int8_input(mq, tuple(np.asarray(a, np.float32) for a in xf)
                             if isinstance(xf, tuple) else xf.astype(np.float32), qargs)
    pq = _profile(args, mq.session, xq)
    exact = bool(np.array_equal(np.array(pq.outputs), host_q))
    for dtype, prof in (("float32", pf), ("int8", pq)):
        rows.append({"dtype": dtype, "profile": prof})
    if args.json:
        for r in rows:
            r["profile"].input, r["profile"].versions = case.name, versions(
                get_cpu(r["profile"].cpu))
        out_json = {r["dtype"]: r["profile"].to_json() for r in rows}
        out_json["int8_model"] = made
        out_json["int8_bit_exact_with_interpreter"] = exact
        out_json["input"] = case.name
        print(json.dumps(out_json, indent=2))
    else:
        render.profile_dtypes(pf, pq, case.name, made, exact)
    return EXIT_OK if exact else EXIT_CHECK_FAILED


def write_speedscope(prof: Any, path: Any, label: str) -> None:
    """The profile as a speedscope file: stacks (op, function) weighted by instructions and
    by estimated cycles."""
    frames: list[dict[str, str]] = []
    index: dict[str, int] = {}

    def frame(name: str) -> int:
        if name not in index:
            index[name] = len(frames)
            frames.append({"name": name})
        return index[name]

    samples = [[frame(f"op {r.layer}"), frame(r.name)] for r in prof.functions]

    def sampled(name: str, weights: list[float]) -> dict[str, Any]:
        return {"type": "sampled", "name": name, "unit": "none", "startValue": 0,
                "endValue": sum(weights), "samples": samples, "weights": weights}

    doc = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "name": f"armsim {prof.model} on {prof.cpu_title} ({label})",
        "exporter": f"armsim {__version__}",
        "activeProfileIndex": 0,
        "shared": {"frames": frames},
        "profiles": [sampled(f"{prof.cpu} instructions", [r.instructions for r in prof.functions]),
                     sampled(f"{prof.cpu} estimated cycles",
                             [r.cycles_estimate for r in prof.functions])],
    }
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=1)


def plot_ops(profiles: list[Any], path: str) -> None:
    """Per-op estimated cycles, one bar per CPU, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.name for r in profiles[0].ops if r.instructions]
    fig, ax = plt.subplots(figsize=(max(8, 0.6 * len(names) + 3), 5))
    width = 0.8 / max(len(profiles), 1)
    xs = np.arange(len(names))
    for i, p in enumerate(profiles):
        by = {r.name: r.cycles_estimate for r in p.ops}
        ax.bar(xs + i * width, [by[n] for n in names], width, label=p.cpu_title)
    ax.set_xticks(xs + width * (len(profiles) - 1) / 2, names, rotation=45, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("estimated cycles (log scale)")
    ax.set_title(f"armsim profile of {profiles[0].model}: estimated cycles per op "
                 "(armsim's per-core timing tables)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
