"""Run a sweep on Dask: the cells not stored yet become tasks, each finished cell is
committed to the store at once, a lost worker's cell is retried elsewhere."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .cell import CellTask, cell_hash, kernel_fingerprint, run_cell
from .spec import Sweep
from .store import Store

#: How many times Dask may lose a worker under one cell before the cell counts as failed.
RETRIES = 3


@dataclass
class Prepared:
    """The cells to run and the inputs they share, per model."""

    tasks: list[CellTask]
    inputs: dict[str, tuple[np.ndarray, np.ndarray | None, str]]
    skipped: int
    #: the content hash of every cell of the grid (stored or not)
    hashes: list[str]


def model_file(sweep: Sweep, name: str, out_dir: Path) -> Path:
    """The model's file: as given, or a bundled zoo model saved under ``DIR/models``."""
    p = sweep.models[name]
    if isinstance(p, Path):
        return p
    target = out_dir / "models" / f"{p}.keras"
    if not target.is_file():
        from .. import zoo

        target.parent.mkdir(parents=True, exist_ok=True)
        zoo.build(p).save(target)
    return target


def model_inputs(sweep: Sweep, path: Path, data: str | None
                 ) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(inputs, labels or None, what they are) for one model: the sweep's file, MNIST test
    images for 28x28x1 models (scaled as `validate` does by default), else reproducible
    random inputs of the model's input shape."""
    from ..cli import common as C
    from ..frontends import load_model

    g, _host = load_model(path)
    n = max(sweep.n, 1)
    if sweep.inputs is not None:
        xs, ys = C.read_inputs(str(sweep.inputs), g)
        return xs[:n], (ys[:n] if ys is not None else None), str(sweep.inputs)
    if C.is_mnist_shaped(g):
        from .. import mnist

        split = mnist.load("test", data or C._shared_mnist())
        xs = C.mnist_scale(split.images[:n], "seed")
        return xs, split.labels[:n].astype(np.int64), "MNIST test images"
    shape = (n,) + g.tensors[g.inputs[0]].shape
    rng = np.random.default_rng(0)
    return rng.normal(0, 1, shape).astype(np.float32), None, "random normal inputs (seed 0)"


def prepare(sweep: Sweep, store: Store, out_dir: Path, data: str | None = None) -> Prepared:
    """Every cell as a task, minus those whose content hash is already stored."""
    fingerprint = kernel_fingerprint()
    have = store.hashes()
    tasks, inputs, skipped, hashes = [], {}, 0, []
    files: dict[str, Path] = {}
    for key in sweep.cells():
        if key.model not in files:
            files[key.model] = model_file(sweep, key.model, out_dir)
            inputs[key.model] = model_inputs(sweep, files[key.model], data)
        path = files[key.model]
        blob = path.read_bytes()
        xs, ys, _what = inputs[key.model]
        digest = hashlib.sha256(xs.tobytes() + (ys.tobytes() if ys is not None else b"")
                                ).hexdigest()
        h = cell_hash(key, blob, digest, sweep.n, sweep.profile, sweep.tolerance, sweep.rtol,
                      fingerprint)
        hashes.append(h)
        if h in have:
            skipped += 1
            continue
        tasks.append(CellTask(key, h, key.model, blob, path.suffix, sweep.n, sweep.profile,
                              sweep.tolerance, sweep.rtol))
    return Prepared(tasks, inputs, skipped, hashes)


def execute(prepared: Prepared, store: Store, client: Any,
            on_cell: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Submit the cells to ``client`` and commit each as it finishes."""
    from distributed import as_completed

    shared = {m: client.scatter([xs, ys], broadcast=False, hash=False)
              for m, (xs, ys, _w) in prepared.inputs.items()}
    futures = {}
    for t in prepared.tasks:
        xs_f, ys_f = shared[t.model_name]
        fut = client.submit(run_cell, t, xs_f, ys_f, key=f"armsim-cell-{t.hash}", pure=False,
                            retries=RETRIES)
        futures[fut] = t
    done = []
    for fut in as_completed(futures):
        t = futures[fut]
        try:
            row = fut.result()
        except Exception as e:  # the task died every time (e.g. its worker kept crashing)
            from .cell import _row

            row = _row(t, "error", f"the cell's task failed: {type(e).__name__}: {e}")
        store.put(row)
        done.append(row)
        if on_cell is not None:
            on_cell(row)
    return done
