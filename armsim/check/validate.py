"""Validation at scale: many inputs through the emulator and through the host model.

Emulation runs in worker processes (``spawn``: they never import TensorFlow), each with one
engine holding the weights; only the input buffer is rewritten per input. A worker gets a
:class:`RunSpec` (plain data: the ELF path, addresses, shapes), not the graph.
"""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing as mp
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from armsim.check.compare import ulp_distance
from armsim.errors import FirmwareFailed
from armsim.machine.elf import ElfImage
from armsim.machine.emulator import Machine
from armsim.machine.semihost import Semihost
from armsim.model import metrics
from armsim.model.inputs import Rows
from armsim.ops import registry
from armsim.parts.cpus import get_cpu
from armsim.parts.mcus import get_mcu
from armsim.session.results import ValidateResult, set_latency

_W: dict[str, Any] = {}


@dataclass(frozen=True)
class RunSpec:
    """What a worker needs to run inferences of one build."""

    elf: str
    cpu: str
    mcu: str
    blocks: list[tuple[int, bytes]]  # weights (and anything else) written once
    input_address: int
    input: Any  # the input's plan Buffer (packs rows into its element order)
    outputs: list[tuple[int, int]]  # (address, element count) per graph output, natural order
    classifier: bool
    max_instructions: int
    timeout_s: float
    counting: str = "auto"
    dtype: str = "float32"  # the outputs' element type
    semihosting: bool = False  # hosted firmware (the user's --sources) exits that way
    elf_bytes: bytes | None = None  # the ELF itself, for workers without the file (Dask)
    fetch: Any = None  # the flash set-up of each input's cycle estimate (flash.Fetch)
    data_timing: Any = None  # the M7's data-memory timing (datamem.DataTiming), if set
    #: a model with several inputs: (address, plan Buffer) of each input after the first
    more_inputs: tuple[tuple[int, Any], ...] = ()

    @classmethod
    def of(cls, session: Any, blocks: list[tuple[int, bytes]] | None = None) -> "RunSpec":
        """The spec of a :class:`armsim.session.session.Session` (its weights, or ``blocks``)."""
        plan, g = session.plan, session.graph
        inp = plan.input
        outs = session.output_spans()
        if blocks is None:
            blocks = session.blocks(plan.pack(plan.constant_tensors()))
        return cls(str(session.build.elf), session.cpu.name, session.mcu.name, blocks,
                   session.address(inp.name), inp, outs, registry.is_classifier(g),
                   session.max_instructions, session.timeout_s,
                   dtype=g.tensors[g.outputs[0]].dtype,
                   semihosting=session.machine.semihost is not None,
                   fetch=session.fetch, data_timing=session.machine.data_timing,
                   more_inputs=tuple((session.address(b.name), b) for b in
                                     (plan.for_tensor(t) for t in g.inputs[1:])))

    @property
    def n_outputs(self) -> int:
        """Output elements per inference, all outputs joined."""
        return sum(n for _a, n in self.outputs)


@dataclass(frozen=True)
class EmulatorRun:
    """Per-input emulator results."""

    outputs: np.ndarray  # (N, n_outputs) float32 (int8 for quantized graphs)
    predicted: np.ndarray  # (N,), -1 for non-classifiers
    instructions: np.ndarray  # (N,)
    seconds: float
    cycles: np.ndarray | None = None  # (N,) estimated cycles with the spec's flash set-up
    fetch: Any = None  # that set-up (flash.Fetch)


def _machine(spec: RunSpec) -> Any:
    """An engine holding the spec's ELF and its once-written memory."""
    m = Machine(ElfImage.load(spec.elf), get_cpu(spec.cpu), get_mcu(spec.mcu),
                counting=spec.counting, semihost=Semihost() if spec.semihosting else None)
    m.write_blocks(spec.blocks)
    if spec.data_timing is not None:
        m.data_timing = spec.data_timing
    return m


def _init(spec: RunSpec) -> None:
    _W.update(machine=_machine(spec), spec=spec)


#: What a chunk of inputs gives: its start, outputs, classes, instructions, estimated cycles.
Chunk = tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _chunk(args: tuple[int, np.ndarray]) -> Chunk:
    start, xs = args
    return _run_chunk(_W["machine"], _W["spec"], start, xs)


def _run_chunk(m: Any, spec: RunSpec, start: int, xs: np.ndarray) -> Chunk:
    """Inputs ``xs`` (the ``start``-th on) through engine ``m``."""
    arrays = xs.arrays if isinstance(xs, Rows) else (xs,)
    writes = [(a, b.pack_many(x)) for (a, b), x in zip(
        ((spec.input_address, spec.input), *spec.more_inputs), arrays)]
    writes = [(a, r.astype(r.dtype.newbyteorder("<"))) for a, r in writes]
    out_t = np.dtype(spec.dtype).newbyteorder("<")
    outs = np.empty((len(xs), spec.n_outputs), out_t)
    preds = np.full(len(xs), -1, np.int32)
    instr = np.empty(len(xs), np.int64)
    cyc = np.empty(len(xs), np.float64)
    pred = m.image.symbols.get("armsim_predicted") if spec.classifier else None
    pred_addr = pred.address if pred is not None else None
    for i in range(len(xs)):
        m.write_blocks([(a, r[i].tobytes()) for a, r in writes])
        stats = m.run(spec.max_instructions, spec.timeout_s)
        outs[i] = np.concatenate([np.frombuffer(m.read(a, out_t.itemsize * n), out_t)
                                  for a, n in spec.outputs])
        if m.semihost is not None and m.semihost.exit is not None and m.semihost.exit.status:
            raise FirmwareFailed(f"the firmware exited with status {m.semihost.exit.status} "
                              f"({m.semihost.exit.reason}) on input {start + i}")
        if pred_addr is not None:
            preds[i] = np.frombuffer(m.read(pred_addr, 4), "<i4")[0]
        elif spec.classifier:
            preds[i] = int(np.argmax(outs[i]))
        instr[i] = stats.instructions
        cyc[i] = m.cycles_so_far(spec.fetch)
    return start, outs, preds, instr, cyc


def emulate(spec: RunSpec, xs: np.ndarray, jobs: int,
            progress: Callable[[int], None] | None = None, chunk: int = 200) -> EmulatorRun:
    """Run every input through the emulator on ``jobs`` processes (1: in this process)."""
    n = len(xs)
    outs = np.empty((n, spec.n_outputs), np.dtype(spec.dtype))
    preds = np.empty(n, np.int32)
    instr = np.empty(n, np.int64)
    cyc = np.empty(n, np.float64)
    tasks = [(i, xs[i:i + chunk]) for i in range(0, n, chunk)]
    t0 = time.perf_counter()
    pool = None
    if jobs <= 1 or len(tasks) <= 1:
        _init(spec)
        results: Any = map(_chunk, tasks)
    else:
        pool = mp.get_context("spawn").Pool(min(jobs, len(tasks)), initializer=_init,
                                            initargs=(spec,))
        results = pool.imap_unordered(_chunk, tasks)
    try:
        for start, o, p, c, e in results:
            outs[start:start + len(o)] = o
            preds[start:start + len(o)] = p
            instr[start:start + len(o)] = c
            cyc[start:start + len(o)] = e
            if progress:
                progress(len(o))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return EmulatorRun(outs, preds, instr, time.perf_counter() - t0, cyc, spec.fetch)


#: Engines of this worker process, by the ELF's content hash (Dask runs).
_DASK: dict[str, Any] = {}


def shippable(spec: RunSpec) -> RunSpec:
    """The spec with its ELF's bytes inside, for workers on other machines (no shared disk)."""
    return dataclasses.replace(spec, elf_bytes=Path(spec.elf).read_bytes())


def _dask_chunk(spec: RunSpec, start: int, xs: np.ndarray) -> Chunk:
    """One chunk on a Dask worker: the ELF is written to the worker's disk from the spec."""
    data = spec.elf_bytes if spec.elf_bytes is not None else Path(spec.elf).read_bytes()
    key = hashlib.sha256(data).hexdigest()[:16]
    if key not in _DASK:
        path = Path(tempfile.gettempdir()) / f"armsim-{key}.elf"
        if not path.is_file():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        _DASK[key] = _machine(dataclasses.replace(spec, elf=str(path), elf_bytes=None))
    return _run_chunk(_DASK[key], spec, start, xs)


def emulate_dask(spec: RunSpec, xs: np.ndarray, client: Any,
                 progress: Callable[[int], None] | None = None,
                 chunk: int = 200) -> EmulatorRun:
    """:func:`emulate` with the chunks as Dask tasks on ``client``'s workers: the ELF and each
    chunk of inputs travel with the tasks."""
    from distributed import as_completed

    n = len(xs)
    outs = np.empty((n, spec.n_outputs), np.dtype(spec.dtype))
    preds = np.empty(n, np.int32)
    instr = np.empty(n, np.int64)
    cyc = np.empty(n, np.float64)
    t0 = time.perf_counter()
    try:  # to every worker; one that is restarting must not hold the run up
        remote = client.scatter(shippable(spec), broadcast=True, hash=False, timeout=30)
    except Exception:  # noqa: BLE001 - then to one worker: the tasks fetch it from there
        remote = client.scatter(shippable(spec), hash=False)
    futures = [client.submit(_dask_chunk, remote, i, xs[i:i + chunk], pure=False)
               for i in range(0, n, chunk)]
    for fut in as_completed(futures):
        start, o, p, c, e = fut.result()
        outs[start:start + len(o)] = o
        preds[start:start + len(o)] = p
        instr[start:start + len(o)] = c
        cyc[start:start + len(o)] = e
        if progress:
            progress(len(o))
    return EmulatorRun(outs, preds, instr, time.perf_counter() - t0, cyc, spec.fetch)


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cross_metrics(emu: np.ndarray, host: np.ndarray) -> dict[str, Any]:
    """X-CUBE-AI style emulator-vs-host ("X-cross") error metrics over all outputs."""
    e = emu.astype(np.float64).reshape(-1)
    h = host.astype(np.float64).reshape(-1)
    if np.isnan(e).any() or np.isnan(h).any():
        nan = float("nan")
        return {"max_abs_diff": float("inf"), "rmse": nan, "mae": nan, "l2r": nan, "cos": nan,
                "mean_error": nan, "std_error": nan, "max_ulp": None,
                "nan_outputs": int(np.isnan(e).sum() + np.isnan(h).sum())}
    d = e - h
    return {
        "max_abs_diff": float(np.max(np.abs(d))) if d.size else 0.0,
        "rmse": float(np.sqrt(np.mean(d * d))),
        "mae": float(np.mean(np.abs(d))),
        "l2r": float(np.linalg.norm(d) / max(np.linalg.norm(h), 1e-300)),
        "cos": float(np.dot(e, h) / max(np.linalg.norm(e) * np.linalg.norm(h), 1e-300)),
        "mean_error": float(np.mean(d)),
        "std_error": float(np.std(d)),
        "max_ulp": int(ulp_distance(emu, host).max()),
        "nan_outputs": 0,
    }


def summarize(host: np.ndarray, run: EmulatorRun, classifier: bool, labels: np.ndarray | None,
              tolerance: float, rtol: float = 0.0) -> ValidateResult:
    """Everything ``armsim validate`` reports on a float model, as a :class:`ValidateResult`
    (the caller adds what ran where)."""
    n = len(host)
    m = cross_metrics(run.outputs, host)
    res = ValidateResult(n, task="classification" if classifier else "regression", **m,
                         tolerance=tolerance, rtol=rtol)
    res.within_tolerance = bool(np.all(np.abs(run.outputs.astype(np.float64) - host) <=
                                       tolerance + rtol * np.abs(host.astype(np.float64))))
    if classifier:
        hp = np.argmax(host, axis=1)
        ep = np.argmax(run.outputs, axis=1)
        classes = host.shape[1]
        res.agreement = float(np.mean(hp == ep))
        res.disagreeing_inputs = [int(i) for i in np.flatnonzero(hp != ep)[:20]]
        if labels is not None:
            res.host_accuracy = float(np.mean(hp == labels))
            res.emulator_accuracy = float(np.mean(ep == labels))
            res.confusion_matrix = {
                "host": metrics.confusion_matrix(labels, hp, classes).tolist(),
                "emulator": metrics.confusion_matrix(labels, ep, classes).tolist()}
            res.classification_report = {"host": metrics.report(labels, hp, classes),
                                         "emulator": metrics.report(labels, ep, classes)}
    timing(res, run)
    res.passed = bool(res.nan_outputs == 0 and res.within_tolerance and
                      (not classifier or res.agreement == 1.0))
    return res


def timing(res: ValidateResult, run: EmulatorRun) -> None:
    """Instructions per input, their estimated cycles and latency with the run's flash
    set-up and clock, and the emulation's wall time, into ``res``."""
    res.instructions = {"min": int(run.instructions.min()),
                        "median": float(np.median(run.instructions)),
                        "max": int(run.instructions.max()),
                        "total": int(run.instructions.sum())}
    res.seconds = round(run.seconds, 3)
    res.inputs_per_second = round(res.n / run.seconds, 1) if run.seconds else None
    if run.cycles is not None and run.fetch is not None:
        set_latency(res, run.cycles, run.fetch)


def plot_confusion(result: ValidateResult, path: str) -> None:
    """Host and emulator confusion matrices side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    for ax, side in zip(axes, ("host", "emulator")):
        m = np.array(result.confusion_matrix[side])
        ax.imshow(m, cmap="Blues")
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                    color="white" if v > m.max() / 2 else "black")
        ax.set_title(f"{side}: accuracy {getattr(result, side + '_accuracy'):.4f}")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_xticks(range(m.shape[0]))
        ax.set_yticks(range(m.shape[0]))
    fig.suptitle(f"armsim validate: {result.n} inputs, agreement {result.agreement:.4%}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
