"""Validation at scale: many test images through the emulator and through Keras.

Emulation runs in worker processes (``spawn``: they never import TensorFlow), each with one
engine that holds the weights; only the input buffer is rewritten per image.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import layout as L
from . import metrics, mnist
from .compare import ulp_distance

_W: dict[str, Any] = {}


@dataclass(frozen=True)
class EmulatorRun:
    """Per-image emulator results."""

    outputs: np.ndarray  # (N, 10) float32
    predicted: np.ndarray  # (N,)
    instructions: np.ndarray  # (N,)
    seconds: float


def pack_inputs(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28) -> scaled float32 rows (N, 784) in the input buffer's order."""
    return L.seed_layout(1)["input"].pack_many(mnist.scale(images))


def _init(elf: str, cpu: str, mcu: str, filters: int, blocks: list[tuple[int, bytes]],
          counting: str, max_instructions: int, timeout_s: float) -> None:
    from .cpus import get_cpu
    from .elf import ElfImage
    from .emulator import Machine
    from .mcu import get_mcu

    m = Machine(ElfImage.load(elf), get_cpu(cpu), get_mcu(mcu), counting=counting)
    m.write_blocks(blocks)
    _W.update(machine=m, input=L.seed_layout(filters)["input"].address,
              limits=(max_instructions, timeout_s))


def _chunk(args: tuple[int, np.ndarray]) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    start, images = args
    m = _W["machine"]
    addr = _W["input"]
    out_sym = m.image.symbol("armsim_output")
    pred_sym = m.image.symbol("armsim_predicted")
    rows = pack_inputs(images)
    outs = np.empty((len(images), L.CLASSES), np.float32)
    preds = np.empty(len(images), np.int32)
    instr = np.empty(len(images), np.int64)
    for i, row in enumerate(rows):
        m.uc.mem_write(addr, row.tobytes())
        stats = m.run(*_W["limits"])
        outs[i] = np.frombuffer(m.read(out_sym.address, 4 * L.CLASSES), "<f4")
        preds[i] = np.frombuffer(m.read(pred_sym.address, 4), "<i4")[0]
        instr[i] = stats.instructions
    return start, outs, preds, instr


def emulate(elf: str, cpu: str, mcu: str, filters: int, weight_blocks: list[tuple[int, bytes]],
            images: np.ndarray, jobs: int, counting: str = "auto",
            max_instructions: int = 50_000_000, timeout_s: float = 30.0,
            progress: Callable[[int], None] | None = None, chunk: int = 200) -> EmulatorRun:
    """Run every image through the emulator on ``jobs`` processes (1: in this process)."""
    n = len(images)
    outs = np.empty((n, L.CLASSES), np.float32)
    preds = np.empty(n, np.int32)
    instr = np.empty(n, np.int64)
    tasks = [(i, images[i:i + chunk]) for i in range(0, n, chunk)]
    init = (elf, cpu, mcu, filters, weight_blocks, counting, max_instructions, timeout_s)
    t0 = time.perf_counter()
    if jobs <= 1:
        _init(*init)
        results = map(_chunk, tasks)
        pool = None
    else:
        pool = mp.get_context("spawn").Pool(jobs, initializer=_init, initargs=init)
        results = pool.imap_unordered(_chunk, tasks)
    try:
        for start, o, p, c in results:
            outs[start:start + len(o)] = o
            preds[start:start + len(o)] = p
            instr[start:start + len(o)] = c
            if progress:
                progress(len(o))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return EmulatorRun(outs, preds, instr, time.perf_counter() - t0)


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cross_metrics(emu: np.ndarray, host: np.ndarray) -> dict[str, float]:
    """X-CUBE-AI style emulator-vs-host ("X-cross") error metrics over all outputs."""
    e = emu.astype(np.float64).reshape(-1)
    h = host.astype(np.float64).reshape(-1)
    if np.isnan(e).any() or np.isnan(h).any():
        nan = float("nan")
        return {"max_abs_diff": float("inf"), "rmse": nan, "mae": nan, "l2r": nan, "cos": nan,
                "mean_error": nan, "std_error": nan, "max_ulp": None,
                "nan_outputs": int(np.isnan(e).sum())}
    d = e - h
    return {
        "max_abs_diff": float(np.max(np.abs(d))),
        "rmse": float(np.sqrt(np.mean(d * d))),
        "mae": float(np.mean(np.abs(d))),
        "l2r": float(np.linalg.norm(d) / max(np.linalg.norm(h), 1e-300)),
        "cos": float(np.dot(e, h) / max(np.linalg.norm(e) * np.linalg.norm(h), 1e-300)),
        "mean_error": float(np.mean(d)),
        "std_error": float(np.std(d)),
        "max_ulp": int(ulp_distance(emu, host).max()),
        "nan_outputs": 0,
    }


def summarize(labels: np.ndarray, host: np.ndarray, run: EmulatorRun,
              tolerance: float, rtol: float = 0.0) -> dict[str, Any]:
    """Everything ``armsim validate`` reports, under stable keys."""
    hp = np.argmax(host, axis=1)
    ep = np.argmax(run.outputs, axis=1)
    n = len(labels)
    res: dict[str, Any] = {
        "n": n,
        "host_accuracy": float(np.mean(hp == labels)),
        "emulator_accuracy": float(np.mean(ep == labels)),
        "agreement": float(np.mean(hp == ep)),
        **cross_metrics(run.outputs, host),
        "tolerance": tolerance,
        "disagreeing_images": [int(i) for i in np.flatnonzero(hp != ep)[:20]],
        "confusion_matrix": {"host": metrics.confusion_matrix(labels, hp).tolist(),
                             "emulator": metrics.confusion_matrix(labels, ep).tolist()},
        "classification_report": {"host": metrics.report(labels, hp),
                                  "emulator": metrics.report(labels, ep)},
        "instructions": {"min": int(run.instructions.min()),
                         "median": float(np.median(run.instructions)),
                         "max": int(run.instructions.max()),
                         "total": int(run.instructions.sum())},
        "seconds": round(run.seconds, 3),
        "images_per_second": round(n / run.seconds, 1) if run.seconds else None,
    }
    within = bool(np.all(np.abs(run.outputs.astype(np.float64) - host) <=
                         tolerance + rtol * np.abs(host.astype(np.float64))))
    res["rtol"] = rtol
    res["passed"] = bool(res["agreement"] == 1.0 and res["nan_outputs"] == 0 and within)
    return res


def plot_confusion(result: dict[str, Any], path: str) -> None:
    """Host and emulator confusion matrices side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    for ax, side in zip(axes, ("host", "emulator")):
        m = np.array(result["confusion_matrix"][side])
        ax.imshow(m, cmap="Blues")
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                    color="white" if v > m.max() / 2 else "black")
        ax.set_title(f"{side}: accuracy {result[side + '_accuracy']:.4f}")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
    fig.suptitle(f"armsim validate: {result['n']} images, agreement {result['agreement']:.4%}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
