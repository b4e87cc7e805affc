"""``--runtime tflm`` of ``simulate``, ``validate``, ``profile`` and ``build``: TensorFlow
Lite Micro itself runs the ``.tflite`` file on the emulated chip (no armsim plan), against
TFLM on the host (the tflite-micro package) and, beside it, the TFLite interpreter."""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from armsim.check import tflm as T
from armsim.cli import common as C
from armsim.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, ArmsimError, ModelError
from armsim.firmware.toolchain import cache_dir, content_hash
from armsim.model import flatbuffer, inputs, mnist, tflm_host
from armsim.model.flatbuffer import FlatbufferModel
from armsim.model.frontends import keras as keras_file
from armsim.model.quantize import float_tflite
from armsim.model.tflite_host import TFLiteFile
from armsim.parts.cpus import get_cpu
from armsim.parts.mcus import DEFAULT_MCU, get_mcu, resolve_cpu
from armsim.report import tables as render
from armsim.report import tflm as view
from armsim.session import tflm as S
from armsim.session.results import ValidateResult, set_latency
from armsim.session.versions import versions

FALLBACK = "TFLite interpreter (reference kernels; the tflite-micro package is not available "


def model_file(args: argparse.Namespace) -> tuple[FlatbufferModel, Path, str]:
    """The ``.tflite`` to run (a ``.keras`` model converted to float32 with TFLite's
    converter, cached), its path, and a note when it was converted."""
    path = getattr(args, "model", None) or str(inputs.data_file(inputs.DEFAULT_MODEL))
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"--model {p}: no such file")
    if p.suffix.lower() == ".tflite":
        return flatbuffer.load(p), p, ""
    if p.suffix.lower() not in (".keras", ".h5"):
        raise ModelError(f"--model {p}: --runtime tflm takes a .tflite file or a Keras model "
                         "(.keras)")
    data = float_tflite(keras_file.load(p, getattr(args, "trust_model", False)))
    out = cache_dir().parent / "converted"
    out.mkdir(parents=True, exist_ok=True)
    conv = out / content_hash(data) / f"{p.stem}.tflite"
    if not conv.is_file():
        conv.parent.mkdir(parents=True, exist_ok=True)
        conv.write_bytes(data)
    return flatbuffer.read(data, conv), conv, (
        f"{p.name} was converted to a float32 .tflite with TFLiteConverter ({conv}); for "
        "int8, quantize it first with `armsim quantize`")


def session(args: argparse.Namespace, fm: FlatbufferModel, cpu_name: str | None = None,
            kernels: str | None = None) -> S.TflmSession:
    """The TFLM session of the command's CPU, MCU, kernel set, arena and limits; the first
    build says what it does on stderr."""
    mcu = get_mcu(getattr(args, "mcu", None) or DEFAULT_MCU)
    cpu = get_cpu(resolve_cpu(mcu, cpu_name or getattr(args, "cpu", None)))
    cpu = cpu.with_opt(getattr(args, "opt", None))
    quiet = getattr(args, "json", False) or getattr(args, "quiet", False)
    note: Callable[[str], None] | None = None if quiet else render.note
    return S.TflmSession(fm, cpu, mcu, kernels or args.kernels, getattr(args, "arena", None),
                         note=note, max_instructions=getattr(args, "max_instructions", None),
                         timeout_s=getattr(args, "timeout", None))


class Hosts:
    """The host references of one model: TFLM on the host (or, where the tflite-micro package
    does not import, the TFLite interpreter), and the TFLite interpreter beside it."""

    def __init__(self, fm: FlatbufferModel, path: Path) -> None:
        self.why_no_tflm = tflm_host.available()
        self.tflm = tflm_host.TflmHost(fm, check_first=False) if self.why_no_tflm is None \
            else None
        self.tflite = TFLiteFile(path)
        if self.tflm is not None:
            self.source = f"TFLM on the host ({tflm_host.version()}, reference kernels)"
        else:
            self.source = FALLBACK + f"here: {self.why_no_tflm})"

    def run(self, xs: list[np.ndarray]) -> tuple[list[np.ndarray] | None, Any]:
        """(the host's outputs, the second reference's outputs or refusal)."""
        second = self.tflite.run(xs)
        if self.tflm is not None:
            return self.tflm.run(xs), second
        return (second if not isinstance(second, str) else None), None

    def tensors(self) -> dict[int, np.ndarray]:
        """Every operator output of the last host run (TFLM preserves them all)."""
        if self.tflm is None:
            return {}
        return {t: v for _op, t, v in self.tflm.operator_outputs()}


def model_cases(args: argparse.Namespace, fm: FlatbufferModel) -> tuple[list[inputs.TensorCase], str]:
    images = getattr(args, "image", None)
    return inputs.model_file_cases(fm, getattr(args, "inputs", None), images,
                                   getattr(args, "data", None),
                                   getattr(args, "mnist_scale", "seed"))


def _check_model(fm: FlatbufferModel) -> None:
    """TFLM's own refusal, before anything is built."""
    tflm_host.check(fm)


def simulate(args: argparse.Namespace) -> int:
    """``armsim simulate --runtime tflm``."""
    fm, path, converted = model_file(args)
    _check_model(fm)
    cases, prep = model_cases(args, fm)
    s = session(args, fm)
    fetch = C.fetch_timing(args, s.mcu)
    hosts = Hosts(fm, path)
    rows = []
    for c in cases:
        r = s.run(c.xs, fetch=fetch)
        host_out, second = hosts.run(c.xs)
        row = T.simulate_result(fm, c, r, s.cpu.name, host_out, hosts.source, second,
                                args.tolerance, args.rtol)
        row.runtime, row.kernels, row.arena_bytes = "tflm", s.kernels, s.arena.bytes
        row.arena = S.arena_json(s.arena)
        row.versions = versions(s.cpu, tflite=True, tflm=True)
        set_latency(row, r.cycles_estimate, fetch, s.mcu.name)
        if converted:
            row.note = converted
        if host_out is None:
            row.note = (row.note + "; " if converted else "") + \
                "no host reference ran this model: nothing was compared"
        rows.append(row)
    mismatch = any(r.agree is False for r in rows)
    if mismatch or args.layers:
        picks = [i for i, r in enumerate(rows) if args.layers or r.agree is False][:3]
        for i in picks:
            per_op = s.run_per_op(cases[i].xs)
            hosts.run(cases[i].xs)
            rows[i].diagnosis = T.op_diffs(fm, per_op.tensors, hosts.tensors(), s.kernels,
                                           args.tolerance, args.rtol)
    if args.json:
        out = [r.to_json() for r in rows]
        print(json.dumps(out[0] if len(out) == 1 else out, indent=2))
    else:
        view.simulate_table(rows, fm, s, prep)
        if converted:
            render.note(converted)
    return EXIT_CHECK_FAILED if mismatch else EXIT_OK


def _validation_inputs(args: argparse.Namespace, fm: FlatbufferModel
                       ) -> tuple[list[inputs.TensorCase], str]:
    """validate's inputs: --inputs, the MNIST test set for a 28x28 model, else random ones;
    --start and --n applied."""
    ins = fm.inputs
    mnist_like = len(ins) == 1 and tuple(d for d in ins[0].shape if d != 1) == (28, 28)
    if not args.inputs and mnist_like:
        split = mnist.load("test", args.data or inputs.shared_mnist())
        total = len(split.images)
        if args.start >= total:
            raise ArmsimError(f"--start {args.start} is beyond the {total} MNIST test images")
        n = min(args.n or total - args.start, total - args.start)
        idx = list(range(args.start, args.start + n))
        cases, prep = inputs.model_file_cases(fm, None, idx, args.data, args.mnist_scale)
        return cases, f"MNIST test images {args.start}..{args.start + n - 1}; {prep}"
    count = None if args.inputs else (args.start + (args.n or 100))
    cases, prep = inputs.model_file_cases(fm, args.inputs, None, args.data, args.mnist_scale,
                                          count)
    if args.start >= len(cases):
        raise ArmsimError(f"--start {args.start} is beyond the {len(cases)} inputs")
    end = args.start + args.n if args.n else len(cases)
    return cases[args.start:end], prep


def validate(args: argparse.Namespace) -> int:
    """``armsim validate --runtime tflm``: every input through the emulated TFLM and the
    host; integer outputs equal, float outputs within the tolerance."""
    fm, path, converted = model_file(args)
    _check_model(fm)
    cases, prep = _validation_inputs(args, fm)
    s = session(args, fm)
    fetch = C.fetch_timing(args, s.mcu)
    hosts = Hosts(fm, path)
    t0 = time.perf_counter()
    counts, differing, agree, labels_ok, host_ok = [], [], 0, 0, 0
    cycle_counts = []
    worst, worst_q, second_q = 0.0, None, None
    compared = 0
    with render.progress(not (args.json or args.quiet)) as bar:
        task = bar.add(f"TFLM on {s.cpu.title} and the host, {len(cases)} inputs", len(cases))
        for k, c in enumerate(cases):
            r = s.run(c.xs, fetch=fetch)
            counts.append(r.instructions)
            cycle_counts.append(r.cycles_estimate)
            host_out, second = hosts.run(c.xs)
            if host_out is not None:
                compared += 1
                a = T.compare(fm.outputs, r.outputs, host_out, args.tolerance, args.rtol)
                worst = max(worst, a.max_abs_diff)
                if a.max_abs_diff_q is not None:
                    worst_q = max(worst_q or 0, a.max_abs_diff_q)
                if a.agree:
                    agree += 1
                else:
                    differing.append(args.start + k)
                p, hp = T.predicted(fm, r.outputs), T.predicted(fm, host_out)
                if c.label is not None and p is not None:
                    labels_ok += p == c.label
                    host_ok += hp == c.label
            if second is not None and not isinstance(second, str):
                b = T.compare(fm.outputs, r.outputs, second, args.tolerance, args.rtol)
                if b.max_abs_diff_q is not None:
                    second_q = max(second_q or 0, b.max_abs_diff_q)
            bar.advance(task, 1)
    seconds = time.perf_counter() - t0
    n = len(cases)
    res = ValidateResult(n, model=fm.name, inputs=prep, start=args.start, cpu=s.cpu.name,
                         mcu=s.mcu.name, kernels=s.kernels, host_source=hosts.source)
    res.dtype = ",".join(sorted({t.dtype for t in fm.outputs}))
    res.max_abs_diff = worst
    if worst_q is not None:
        res.max_abs_diff_q = worst_q
    res.bit_exact_inputs = agree
    res.differing_inputs = differing[:50]
    arr = np.array(counts, np.float64)
    res.instructions = {"min": float(arr.min()), "median": float(np.median(arr)),
                        "max": float(arr.max()), "total": float(arr.sum())}
    res.seconds, res.inputs_per_second = round(seconds, 3), round(n / seconds, 2) \
        if seconds else None
    set_latency(res, cycle_counts, fetch)
    labelled = [c for c in cases if c.label is not None]
    if labelled and T.predicted(fm, s.run(cases[0].xs).outputs) is not None:
        res.emulator_accuracy = labels_ok / len(labelled)
        res.host_accuracy = host_ok / len(labelled)
    res.passed = compared == n and not differing
    res.versions = versions(s.cpu, tflite=True, tflm=True)
    notes = [converted] if converted else []
    if compared < n:
        notes.append("no host reference ran this model: nothing was compared")
    if second_q is not None:
        notes.append(f"TFLite interpreter: max |Δ| {second_q} step(s) (tflite_max_diff_q)")
    elif isinstance(hosts.tflite.refused, str):
        notes.append(f"the TFLite interpreter refuses this model: {hosts.tflite.refused}")
    if notes:
        res.note = "; ".join(notes)
    if args.layers or differing:
        picks = [i - args.start for i in differing[:3]] or [0]
        res.diagnosis = []
        for i in picks:
            per_op = s.run_per_op(cases[i].xs)
            hosts.run(cases[i].xs)
            res.diagnosis.append({"input": cases[i].name, **T.op_diffs(
                fm, per_op.tensors, hosts.tensors(), s.kernels, args.tolerance, args.rtol)})
    res.runtime, res.arena_bytes, res.arena = "tflm", s.arena.bytes, S.arena_json(s.arena)
    if second_q is not None:
        res.tflite_max_diff_q = second_q
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
    else:
        view.validation(res, s)
    return EXIT_OK if res.passed else EXIT_CHECK_FAILED


def profile(args: argparse.Namespace, fetch: Any) -> int:
    """``armsim profile --runtime tflm``: one row per operator, AllocateTensors, Invoke's
    glue, the profiler's cost, the per-function table, footprint and arena."""
    fm, path, converted = model_file(args)
    _check_model(fm)
    cases, prep = model_cases(args, fm)
    case = cases[0]
    s = session(args, fm)
    prof = S.profile(s, case.xs, fetch(s.mcu))
    hosts = Hosts(fm, path)
    host_out, second = hosts.run(case.xs)
    extra: dict[str, Any] = {"input": case.name, "host_source": hosts.source,
                             "versions": versions(s.cpu, tflite=True, tflm=True)}
    agree = None
    if host_out is not None:
        a = T.compare(fm.outputs, prof.outputs, host_out, args.tolerance, args.rtol)
        agree = a.agree
        extra.update(agree=a.agree, max_abs_diff=a.max_abs_diff)
        if a.max_abs_diff_q is not None:
            extra["max_abs_diff_q"] = a.max_abs_diff_q
    if second is not None and not isinstance(second, str):
        b = T.compare(fm.outputs, prof.outputs, second, args.tolerance, args.rtol)
        if b.max_abs_diff_q is not None:
            extra["tflite_max_diff_q"] = b.max_abs_diff_q
    if converted:
        extra["note"] = converted
    extra["outputs"] = T.flat_real(fm, prof.outputs)
    prof.extra = extra
    if args.json:
        print(json.dumps(prof.to_json(), indent=2))
    else:
        view.profile(prof, prep if case.name.startswith("random") else case.name, agree,
                     args.top)
        if converted:
            render.note(converted)
    if not prof.footprint["fits"]:
        render.note("error: the application does not fit " + prof.footprint["mcu"] + ": "
                    + "; ".join(prof.footprint["fit_problems"]))
        return EXIT_BAD_INPUT
    return EXIT_OK if agree in (None, True) else EXIT_CHECK_FAILED


def build(args: argparse.Namespace, out: Path | None = None) -> int:
    """``armsim build --runtime tflm``: the deployed application with the smallest arena
    (copied to ``out`` when given)."""
    fm, _path, converted = model_file(args)
    _check_model(fm)
    s = session(args, fm)
    fp = S.footprint(s, 0)
    if out is not None:
        shutil.copyfile(s.elf, out)
    print(f"{out or s.elf}")
    render.note(f"TFLM application of {fm.path.name} ({s.kernels} kernels, {s.cpu.title}, MCU "
                f"{s.mcu.name}): arena {s.arena.bytes:,} bytes (the smallest that works), flash "
                f"{fp['flash']['total']:,} bytes (model {fp['flash']['model']:,})")
    if converted:
        render.note(converted)
    return EXIT_OK
