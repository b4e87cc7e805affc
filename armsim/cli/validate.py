"""``armsim validate``: many inputs through emulator and host, with accuracy and error metrics."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from armsim.check import validate as V
from armsim.check.dask import emulate
from armsim.check.diagnose import REBUILT, REBUILT_NOTE, TFLITE_HOST, diagnose_inputs, reread_orders
from armsim.cli import common as C
from armsim.cli import int8, tflm
from armsim.cli import options as O
from armsim.cli import script_setup as S
from armsim.errors import EXIT_CHECK_FAILED, EXIT_OK, ArmsimError, DataError
from armsim.model import inputs, mnist
from armsim.model import keras_host as host
from armsim.model.train import seed_model_from
from armsim.ops import registry
from armsim.report import tables as render
from armsim.session.results import ValidateResult, present, set_error_pct
from armsim.session.versions import versions


def add_parser(sub: Any) -> None:
    """Register the command."""
    v = sub.add_parser("validate", help="many inputs through emulator and Keras: accuracy, "
                       "agreement, error metrics",
                       description="Run a test set through the emulator (in parallel) and "
                       "Keras; every input must agree.")
    O.add_target(v)
    O.add_runtime(v)
    O.add_host(v)
    O.add_model(v)
    v.add_argument("--script", help="take the weights from this uVision script instead")
    O.add_script_options(v)
    v.add_argument("--filters", type=int, choices=range(1, 9), metavar="F",
                   help="with --script and no --model: seed layout F")
    O.add_inputs(v, "inputs (.npy, or .npz with x and optional y labels) instead of MNIST")
    O.add_data(v)
    v.add_argument("--n", type=O.positive_int, help="number of inputs (default: all)")
    v.add_argument("--start", type=O.non_negative_int, default=0, help="first input index")
    v.add_argument("--jobs", type=O.positive_int, help="worker processes (default: all cores)")
    v.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="run the emulation as Dask tasks on this scheduler (default "
                        "$ARMSIM_DASK_SCHEDULER; unset: a local process pool)")
    v.add_argument("--json", action="store_true")
    v.add_argument("--plot", help="write the confusion matrices as a PNG")
    v.add_argument("--html", help="write the run as a self-contained HTML page")
    v.add_argument("--layers", action="store_true",
                   help="per-op diagnosis even when everything agrees")
    O.add_tolerances(v)
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.add_argument("--float-model", help="int8 models: the float32 .keras model it was "
                   "quantized from (quantization error, reported apart)")
    O.add_clock(v)
    O.add_sources(v)
    O.add_limits(v)
    v.set_defaults(func=run)


def _inputs(args: argparse.Namespace, g: Any) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(inputs, labels or None, what they are), checked against --n/--start."""
    if args.inputs:
        xs, ys = inputs.read_inputs(args.inputs, g)
        what = args.inputs + (f" ({xs.note})" if isinstance(xs, inputs.Rows) and xs.note
                              else "")
    else:
        if not inputs.is_mnist_shaped(g):
            shape = g.tensors[g.inputs[0]].shape
            raise ArmsimError(f"model '{g.name}' takes inputs of shape {shape}, not MNIST "
                                "images: give --inputs X.npz (x, and y labels if any)")
        split = mnist.load("test", args.data or inputs.shared_mnist())
        xs, ys = split.images, split.labels.astype(np.int64)
        what = f"MNIST test images, pixels v scaled {inputs.MNIST_SCALES[args.mnist_scale]}"
    total = len(xs)
    if args.start >= total:
        raise DataError(f"--start {args.start} is beyond the {total} inputs (0..{total - 1})")
    n = args.n or total - args.start
    if args.start + n > total:
        raise DataError(f"--start {args.start} --n {n} asks for inputs up to "
                          f"{args.start + n - 1}; there are {total} (0..{total - 1})")
    xs = xs[args.start:args.start + n]
    ys = None if ys is None else ys[args.start:args.start + n]
    if not args.inputs:
        shape = g.tensors[g.inputs[0]].shape
        xs = inputs.mnist_scale(xs, args.mnist_scale).reshape((n,) + shape)
    if g.quantized and xs.dtype == np.dtype(g.dtype):
        return xs, ys, what
    if isinstance(xs, inputs.Rows):
        return xs.astype(np.float32), ys, what
    return np.asarray(xs, np.float32), ys, what


def run(args: argparse.Namespace) -> int:
    """Validate."""
    plot = O.check_output(args.plot, (".png",), "--plot")
    page = O.check_output(args.html, (".html", ".htm"), "--html") if args.html else None
    if args.runtime == "tflm":
        O.refuse_with_tflm(args, "script", "sources", "elf", "float_model", "plot", "html",
                           "scheduler")
        return tflm.validate(args)
    O.refuse(args.filters is not None and not args.script,
             "--filters only applies to a seed-layout --script")
    if not args.script:
        ref = C.load_model(args)
        assert ref is not None
        if ref.graph.quantized:
            return int8.validate(args, ref, _inputs(args, ref.graph), page, plot)
        O.refuse(bool(args.float_model), "--float-model applies to int8 (.tflite) models")
    if args.script:
        st = S.script_setup(args)
        g, plan, s, keras, memory, cpu = st.graph, st.plan, st.session, st.host, st.memory, st.cpu
        host_source = REBUILT if st.host_rebuilt else "model"
    else:
        mr = C.model_run(args, ref)
        g, keras, cpu, plan, s, memory = mr.graph, mr.keras, mr.cpu, mr.plan, mr.session, \
            mr.memory
        host_source = "model" if host.is_keras(keras) else TFLITE_HOST
    xs, labels, what = _inputs(args, g)
    classifier = registry.is_classifier(g)
    blocks = s.blocks({k: v for k, v in memory.items() if k != plan.input.name})
    spec = V.RunSpec.of(s, blocks)
    jobs = args.jobs or V.default_jobs()
    with render.progress(not (args.json or args.quiet)) as bar:
        # the emulation first: TensorFlow's worker threads stay busy for a while after a
        # prediction and would take CPU from the emulator's processes
        run_ = emulate(spec, xs, jobs, getattr(args, "scheduler", None), bar, render.note)
        task = bar.add(f"host model on {len(xs)} inputs", len(xs))
        host_out = host.predict(keras, xs, progress=lambda k: bar.advance(task, k))
    res = V.summarize(host_out, run_, classifier, labels, args.tolerance, args.rtol)
    res.model, res.inputs, res.start, res.cpu = g.name, what, args.start, cpu.name
    res.mcu = s.mcu.name
    if present(res.latency_ms):
        set_error_pct(res)
    res.kernels, res.jobs, res.plan, res.host_source = args.kernels, jobs, plan.preset, \
        host_source
    res.versions = versions(cpu)
    if host_source == REBUILT:
        res.note = REBUILT_NOTE
        if classifier and labels is not None:
            res.layout_search = _chance_check(res, g, plan, memory, xs, labels)
    if (args.layers or not res.passed) and not host.is_keras(keras) and host_source != REBUILT:
        res.note = ("no per-layer diagnosis for a float32 .tflite yet (the TFLite interpreter "
                    "is the host): run the .keras model for one")
    elif args.layers or not res.passed:
        picks = (res.disagreeing_inputs or [])[:3] or [
            int(np.argmax(np.abs(run_.outputs - host_out).max(1)))]
        res.diagnosis = diagnose_inputs(s, keras, memory,
                                        [(f"input #{args.start + i}", xs[i], host_out[i])
                                         for i in picks],
                                        args.tolerance, rebuilt=host_source == REBUILT)
        if (host_source != REBUILT or args.layers) and s.op_entries():
            s.write_buffers({k: v for k, v in memory.items() if k != plan.input.name})
            res.overruns = [o.to_json() for i in picks
                            for o in s.run(xs[i], check_bounds=True).overruns]
            res.passed = res.passed and not res.overruns
    C.validate_plot(plot, res)
    C.validate_page(page, res, s, f"armsim validate: {g.name} on {cpu.title}")
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
    else:
        render.validation(res)
        if present(res.diagnosis):
            render.diagnosis(res.diagnosis)
        if present(res.overruns):
            render.overruns([res], True)
    return EXIT_OK if res.passed else EXIT_CHECK_FAILED


def _chance_check(res: ValidateResult, g: Any, plan: Any, memory: dict[str, np.ndarray],
                  xs: np.ndarray, labels: np.ndarray) -> dict[str, Any] | None:
    """With a rebuilt host, an accuracy near chance means the layout is probably wrong: try
    each weight buffer under the other axis orders and report the one that makes sense."""
    classes = g.tensors[g.outputs[0]].size
    chance = 1.0 / classes
    if res.host_accuracy > 2 * chance or plan.preset != "seed":
        return None
    n = min(len(xs), 500)
    base = {b.name: b.unpack(memory[b.name]) for b in plan if b.role != "input"}
    best = None
    for name, label, tensor in reread_orders(g, plan, memory):
        trial = dict(base)
        trial[name] = tensor
        acc = float(np.mean(np.argmax(host.predict(seed_model_from(trial), xs[:n]), 1)
                            == labels[:n]))
        if best is None or acc > best["accuracy"]:
            best = {"buffer": name, "read_as": label, "accuracy": acc, "n": n}
    if best is None or best["accuracy"] < 3 * chance:
        res.warning = (f"accuracy {res.host_accuracy:.1%} is near chance "
                       f"({chance:.0%}) and no other element order of the script's "
                       "buffers helps")
        return best
    res.warning = (f"accuracy {res.host_accuracy:.1%} is near chance; with "
                   f"{best['buffer']} read {best['read_as']}, accuracy is "
                   f"{best['accuracy']:.1%} on {n} inputs: the script is probably mis-laid")
    return best
