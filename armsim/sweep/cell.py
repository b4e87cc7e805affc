"""One cell of a sweep, computed on a worker: build, validate, profile.

The task carries everything it needs (the model file's bytes, the inputs), so a worker on
another machine builds there; it returns one row of the results table. The figures are those
of the single commands with the same settings: ``validate`` over the cell's inputs and
``profile`` of its first input.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from armsim import __version__
from armsim.check import int8 as Q
from armsim.check import tflm as T
from armsim.check import validate as V
from armsim.errors import ArmsimError, EmulatorFault, LayoutError, ModelError
from armsim.firmware.build import MIN_STACK, check_plan_fits
from armsim.firmware.kernels import kernels_dir
from armsim.firmware.scratch import scratch_sizes
from armsim.firmware.toolchain import find_gcc, gcc_version
from armsim.model import flatbuffer, keras_host, metrics
from armsim.model.frontends import keras as keras_file
from armsim.model.frontends.load import load_model
from armsim.model.inputs import model_input
from armsim.model.quantize import float_tflite
from armsim.model.tflite_host import TFLiteHost
from armsim.model.tflm_host import TflmHost
from armsim.ops import registry
from armsim.parts.cpus import get_cpu
from armsim.parts.flash import FLASH, Fetch, usual_fetch
from armsim.parts.mcus import get_mcu, resolve_cpu
from armsim.plan import make_plan
from armsim.session.profile import Profile, footprint, profile
from armsim.session.results import ValidateResult, latency_ms, present
from armsim.session.session import Session
from armsim.session.tflm import TflmSession
from armsim.session.tflm import footprint as tflm_footprint
from armsim.session.tflm import profile as tflm_profile
from armsim.session.versions import versions
from armsim.sweep.spec import CellKey

#: Columns of the ``cells`` table after the key columns, in order.
RESULT_COLUMNS = ("status", "error", "agreement", "accuracy", "max_abs_diff", "instructions",
                  "cycles_estimate", "flash_bytes", "ram_bytes", "peak_stack_bytes", "seconds",
                  "versions", "n_inputs", "layers", "confusion", "clock_mhz", "latency_ms")
STATUSES = ("ok", "does-not-fit", "disagree", "fault", "error")
#: Where an armsim cell's firmware keeps the weights: in flash, as deployed (the default of
#: every command that is not a script's run).
WEIGHTS_IN = "flash"


@dataclass(frozen=True)
class CellTask:
    """What a worker needs for one cell (plain data, sent through Dask)."""

    key: CellKey
    hash: str
    model_name: str
    model_bytes: bytes
    model_suffix: str
    n: int
    profile: bool
    tolerance: float
    rtol: float
    #: validations longer than this are split into chunks across the workers
    chunk: int = 1000
    #: the input profiled (`armsim profile`'s default for the model), None: the first input
    profile_input: np.ndarray | None = None


def kernel_fingerprint() -> str:
    """A hash of every kernel and runtime source and of the compiler's version (part of each
    cell's content hash)."""
    h = hashlib.sha256(gcc_version(find_gcc()).encode())
    root = kernels_dir()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".c", ".h", ".ld", ".S"):
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def cell_fetch(mcu: str) -> Fetch:
    """The flash timing and latency clock of a cell's part: `profile`'s default."""
    part = get_mcu(mcu)
    return usual_fetch(part.name, part.clock_hz)


def cell_hash(key: CellKey, model_bytes: bytes, inputs_digest: str, n: int, profile: bool,
              tolerance: float, rtol: float, kernels: str) -> str:
    """The content hash of everything that determines a cell's result (the flash timing of
    a part with a flash table included, and where an armsim cell keeps the weights)."""
    h = hashlib.sha256()
    fields = asdict(key)
    if fields["runtime"] == "armsim":  # the hashes of cells from before the runtime axis
        del fields["runtime"]
    costing = [cell_fetch(key.mcu).note] if key.mcu in FLASH else []
    weights = [f"weights in {WEIGHTS_IN}"] if fields.get("runtime", "armsim") == "armsim" else []
    for part in (json.dumps(fields, sort_keys=True), hashlib.sha256(model_bytes).hexdigest(),
                 inputs_digest, str(n), str(profile), repr(tolerance), repr(rtol), kernels,
                 __version__, *costing, *weights):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


@dataclass
class CellResult:
    """One row of the results table: the cell's key, its status, and its figures (None where
    not measured). Made from the same :class:`ValidateResult` and :class:`Profile` objects
    ``armsim validate`` and ``armsim profile`` produce; the store takes it."""

    key: CellKey
    hash: str
    status: str
    error: str = ""
    agreement: float | None = None
    accuracy: float | None = None
    max_abs_diff: float | None = None
    instructions: int | None = None
    cycles_estimate: float | None = None
    flash_bytes: int | None = None
    ram_bytes: int | None = None
    peak_stack_bytes: int | None = None
    seconds: float | None = None
    versions: str | None = None
    n_inputs: int | None = None
    layers: str | None = None
    confusion: str | None = None
    #: the profile's latency at the part's usual clock (flash.usual_fetch), as `profile`
    clock_mhz: float | None = None
    latency_ms: float | None = None

    @classmethod
    def of(cls, task: CellTask, status: str, error: str = "", **figures: Any) -> CellResult:
        """A row of ``task``'s cell."""
        return cls(task.key, task.hash, status, error, **figures)

    def with_validation(self, res: ValidateResult, run: Any, labels: np.ndarray | None
                        ) -> None:
        """The figures of ``armsim validate`` over the cell's inputs (its status with them)."""
        self.max_abs_diff = float(res.max_abs_diff)
        self.n_inputs = res.n
        self.instructions = int(np.median(run.instructions))
        if present(res.agreement):
            self.agreement = res.agreement
            if labels is not None:
                ep = np.argmax(run.outputs, 1)
                self.accuracy = float(np.mean(ep == labels))
                self.confusion = json.dumps(metrics.confusion_matrix(
                    labels, ep, int(run.outputs.shape[1])).tolist())
        self.status = "ok" if res.passed else "disagree"

    def with_profile(self, prof: Profile) -> None:
        """The figures of ``armsim profile`` of the cell's profiled input."""
        self.with_costs(prof.total_instructions, prof.total_cycles_estimate, prof.footprint,
                        [(r.name, r.op, r.cycles_estimate, r.instructions)
                         for r in prof.layers], prof.clock_mhz)

    def with_costs(self, instructions: int, cycles: float, fp: dict[str, Any],
                   layers: list[tuple[str, str, float, int]], clock_mhz: float | None = None
                   ) -> None:
        """A profile's figures: totals, footprint, (name, op, cycles, instructions) per
        layer or operator, and the latency at ``clock_mhz``."""
        self.instructions = int(instructions)
        self.cycles_estimate = float(cycles)
        self.clock_mhz, self.latency_ms = clock_mhz, latency_ms(float(cycles), clock_mhz)
        self.flash_bytes, self.ram_bytes = int(fp["flash"]["total"]), int(fp["ram"]["total"])
        self.peak_stack_bytes = int(fp["ram"]["stack_peak"])
        self.layers = json.dumps([{"name": n, "op": op, "cycles_estimate": c,
                                   "instructions": i} for n, op, c, i in layers])

    def to_row(self) -> dict[str, Any]:
        """The table row: key columns, then :data:`RESULT_COLUMNS`, then the hash."""
        return {**asdict(self.key), **{c: getattr(self, c) for c in RESULT_COLUMNS},
                "hash": self.hash}


_MODELS: dict[str, Any] = {}


def _load(task: CellTask) -> tuple[Any, Any, str]:
    """(graph, host model or None for int8, path) of the task's model, once per worker."""
    digest = hashlib.sha256(task.model_bytes).hexdigest()[:16]
    if digest not in _MODELS:
        path = Path(tempfile.gettempdir()) / f"armsim-model-{digest}{task.model_suffix}"
        if not path.is_file():
            path.write_bytes(task.model_bytes)
        g, host = load_model(path)
        _MODELS[digest] = (g, host, str(path))
    return _MODELS[digest]


def emulate(spec: Any, xs: np.ndarray, chunk: int) -> Any:
    """The cell's inputs through the emulator: here, or (more than ``chunk`` inputs, on a
    Dask worker) as chunk tasks spread over the cluster while this task waits seceded."""
    if len(xs) > chunk:
        try:
            from distributed import get_worker, worker_client

            get_worker()
        except (ImportError, ValueError):
            return V.emulate(spec, xs, 1)
        with worker_client() as c:
            return V.emulate_dask(spec, xs, c, chunk=chunk)
    return V.emulate(spec, xs, 1)


def run_cell(task: CellTask, xs: np.ndarray, ys: np.ndarray | None) -> CellResult:
    """Compute one cell; never raises (a failure is the row's status and error)."""
    t0 = time.perf_counter()
    try:
        row = _run(task, xs, ys)
    except Exception as e:  # a cell's failure is data, not the sweep's failure

        status = "fault" if isinstance(e, EmulatorFault) else "error"
        text = str(e).split("\n", 1)[0] if isinstance(e, ArmsimError) else \
            f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}"
        row = CellResult.of(task, status, text)
    row.seconds = round(time.perf_counter() - t0, 3)
    return row


def _dtype_mismatch(task: CellTask, g: Any) -> CellResult | None:
    """The error row of a cell whose dtype is not its model's, else None."""
    if task.key.dtype == "int8" and not g.quantized:
        return CellResult.of(task, "error", f"{task.model_name} is a float32 model: an int8 "
                             "cell needs its int8 .tflite (armsim quantize)")
    if task.key.dtype == "float32" and g.quantized:
        return CellResult.of(task, "error", f"{task.model_name} is an int8 model: it has no "
                             "float32 cell")
    return None


def _run(task: CellTask, xs: np.ndarray, ys: np.ndarray | None) -> CellResult:
    k = task.key
    g, host_model, path = _load(task)
    if k.runtime == "tflm":
        return tflm_cell(task, g, path, xs, ys)
    wrong = _dtype_mismatch(task, g)
    if wrong is not None:
        return wrong
    mcu = get_mcu(k.mcu)
    cpu = get_cpu(resolve_cpu(mcu, k.cpu)).with_opt(k.opt)  # a part's own core only
    plan = make_plan(g, "auto", None, WEIGHTS_IN, mcu.sram_base,
                     scratch=scratch_sizes(g, cpu) if g.quantized else None)
    try:
        check_plan_fits(plan, mcu)
    except LayoutError as e:
        need = plan.reserved_end - mcu.sram_base + MIN_STACK
        return CellResult.of(task, "does-not-fit", str(e), ram_bytes=int(need),
                             flash_bytes=int(plan.flash_weight_bytes()))
    s = Session(g, plan, cpu, mcu, k.kernels)
    row = CellResult.of(task, "ok", versions=json.dumps(versions(cpu, host=False),
                                                        sort_keys=True))
    if task.n:
        xv = xs[:task.n]
        labels = ys[:task.n] if ys is not None else None
        spec = V.RunSpec.of(s)
        if g.quantized:
            host = TFLiteHost(path, g)
            xq, xf, _how = Q.quantized_inputs(g, host, xv)
            host_q = host.predict_q(xf if g.float_edges[0] else xq)
            run = emulate(spec, xq, task.chunk)
            res = Q.validation(g, run, host_q, labels)
        else:
            host_out = keras_host.predict(host_model, xv)
            run = emulate(spec, xv, task.chunk)
            res = V.summarize(host_out, run, registry.is_classifier(g), labels,
                              task.tolerance, task.rtol)
        row.with_validation(res, run, labels)
    if task.profile:
        x0 = task.profile_input if task.profile_input is not None else xs[0]
        if g.quantized:
            x0 = Q.quantized_inputs(g, TFLiteHost(path, g), np.asarray(x0)[None])[0][0]
        s.write_buffers(plan.pack(plan.constant_tensors()))
        row.with_profile(profile(s, x0, cell_fetch(k.mcu)))
    else:
        fp = footprint(s, 0)
        row.flash_bytes, row.ram_bytes = int(fp["flash"]["total"]), int(fp["ram"]["total"])
    return row


def tflm_cell(task: CellTask, g: Any, path: str, xs: np.ndarray, ys: np.ndarray | None
              ) -> CellResult:
    """A TFLM cell: the model's file (a .keras converted to float32) run by TFLM with the
    cell's kernel set, against TFLM on the host; the figures of ``validate`` and
    ``profile`` with ``--runtime tflm``."""
    k = task.key
    wrong = _dtype_mismatch(task, g)
    if wrong is not None:
        return wrong
    if Path(path).suffix == ".tflite":
        fm = flatbuffer.load(path)
    else:
        fm = flatbuffer.read(float_tflite(keras_file.load(path)), Path(path).with_suffix(
            ".tflite"))
    if len(fm.inputs) != 1:
        return CellResult.of(task, "error", f"{task.model_name}: a sweep feeds one input")
    t = fm.inputs[0]
    mcu = get_mcu(k.mcu)
    cpu = get_cpu(resolve_cpu(mcu, k.cpu)).with_opt(k.opt)
    try:
        s = TflmSession(fm, cpu, mcu, k.kernels)
    except ModelError as e:
        if "does not fit" in str(e) or "cannot allocate" in str(e):
            return CellResult.of(task, "does-not-fit", str(e).split("\n", 1)[0])
        raise
    row = CellResult.of(task, "ok", versions=json.dumps(versions(cpu, host=False, tflm=True),
                                                        sort_keys=True))

    def tensor_input(x: np.ndarray) -> list[np.ndarray]:
        return [model_input(x, t)]

    if task.n:
        host = TflmHost(fm)
        outs, agree, worst, counts = [], 0, 0.0, []
        for x in xs[:task.n]:
            r = s.run(tensor_input(x), cycles=False)
            h = host.run(tensor_input(x))
            a = T.compare(fm.outputs, r.outputs, h, task.tolerance, task.rtol)
            agree += a.agree
            worst = max(worst, a.max_abs_diff)
            counts.append(r.instructions)
            outs.append((T.predicted(fm, r.outputs), T.predicted(fm, h)))
        n = len(counts)
        row.n_inputs, row.max_abs_diff = n, worst
        row.instructions = int(np.median(counts))
        if outs and outs[0][0] is not None:
            row.agreement = float(np.mean([p == q for p, q in outs]))
            if ys is not None:
                row.accuracy = float(np.mean([p == y for (p, _q), y in zip(outs, ys[:n])]))
        row.status = "ok" if agree == n else "disagree"
    if task.profile:
        x0 = task.profile_input if task.profile_input is not None else xs[0]
        fetch = cell_fetch(task.key.mcu)
        p = tflm_profile(s, tensor_input(np.asarray(x0)), fetch)
        row.with_costs(p.instructions, p.cycles_estimate, p.footprint,
                       [(o.output, o.op_type, o.cycles_estimate, o.instructions)
                        for o in p.ops], fetch.clock_mhz)
    else:
        fp = tflm_footprint(s, 0)
        row.flash_bytes, row.ram_bytes = int(fp["flash"]["total"]), int(fp["ram"]["total"])
    return row
