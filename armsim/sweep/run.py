"""Run a sweep on Dask: the cells not stored yet become tasks, each finished cell is
committed to the store at once, a lost worker's cell is retried elsewhere."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from armsim.model import inputs, mnist, zoo
from armsim.model.frontends.load import load_model
from armsim.model.quantize import quantize
from armsim.sweep.cell import CellResult, CellTask, cell_hash, kernel_fingerprint, run_cell
from armsim.sweep.spec import Sweep
from armsim.sweep.store import Store

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
        target.parent.mkdir(parents=True, exist_ok=True)
        zoo.build(p).save(target)
    return target


#: How many of the sweep's inputs calibrate the int8 twin of a float model.
CALIBRATION_INPUTS = 100


def cell_model(path: Path, dtype: str, xs: np.ndarray, out_dir: Path) -> Path | None:
    """The model file a cell of ``dtype`` runs: the model's own when its dtype is the cell's;
    for an int8 cell of a float Keras model, its fully-int8 ``.tflite`` quantized with
    ``armsim quantize``'s converter on the sweep's first inputs (written once under
    ``DIR/quantized``, named by the model's and the inputs' content); None when there is no
    such cell (a ``.tflite`` file has only its own dtype's)."""
    g, host = load_model(path)
    if (dtype == "int8") == g.quantized:
        return path
    if dtype == "float32" or path.suffix.lower() == ".tflite" or host is None:
        return None
    calib = np.asarray(xs[:CALIBRATION_INPUTS], np.float32)
    digest = hashlib.sha256(path.read_bytes() + calib.tobytes()).hexdigest()[:16]
    target = out_dir / "quantized" / f"{path.stem}-int8-{digest}.tflite"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        quantize(host, calib, target)
    return target


def model_inputs(sweep: Sweep, path: Path, data: str | None
                 ) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(inputs, labels or None, what they are) for one model: the sweep's file, MNIST test
    images for 28x28x1 models (scaled as `validate` does by default), else reproducible
    random inputs of the model's input shape."""
    g, _host = load_model(path)
    n = max(sweep.n, 1)
    if sweep.inputs is not None:
        xs, ys = inputs.read_inputs(str(sweep.inputs), g)
        return xs[:n], (ys[:n] if ys is not None else None), str(sweep.inputs)
    if inputs.is_mnist_shaped(g):
        split = mnist.load("test", data or inputs.shared_mnist())
        xs = inputs.mnist_scale(split.images[:n], "seed").reshape((n,) + g.tensors[g.inputs[0]].shape)
        return xs, split.labels[:n].astype(np.int64), "MNIST test images"
    shape = (n,) + g.tensors[g.inputs[0]].shape
    rng = np.random.default_rng(0)
    return rng.normal(0, 1, shape).astype(np.float32), None, "random normal inputs (seed 0)"


def profile_input(sweep: Sweep, path: Path, xs: np.ndarray) -> np.ndarray:
    """The input a cell profiles: what `armsim profile` takes by default (the first bundled
    test digit) for MNIST-shaped models without an inputs file, else the first input."""
    if sweep.inputs is None:
        g, _host = load_model(path)
        if inputs.is_mnist_shaped(g):
            imgs, _labels, _idx = inputs.load_digits()
            return inputs.mnist_scale(imgs[:1], "seed")[0].reshape(g.tensors[g.inputs[0]].shape)
    return xs[0]


def prepare(sweep: Sweep, store: Store, out_dir: Path, data: str | None = None) -> Prepared:
    """Every cell as a task, minus those whose content hash is already stored."""
    fingerprint = kernel_fingerprint()
    have = store.hashes()
    tasks, inputs, skipped, hashes = [], {}, 0, []
    files: dict[str, Path] = {}
    first: dict[str, np.ndarray] = {}
    for key in sweep.cells():
        if key.model not in files:
            files[key.model] = model_file(sweep, key.model, out_dir)
            inputs[key.model] = model_inputs(sweep, files[key.model], data)
            first[key.model] = profile_input(sweep, files[key.model], inputs[key.model][0])
        path = cell_model(files[key.model], key.dtype, inputs[key.model][0], out_dir)
        if path is None:
            continue  # a .tflite file has only its own dtype's cell
        blob = path.read_bytes()
        xs, ys, _what = inputs[key.model]
        digest = hashlib.sha256(xs.tobytes() + (ys.tobytes() if ys is not None else b"")
                                + first[key.model].tobytes()).hexdigest()
        h = cell_hash(key, blob, digest, sweep.n, sweep.profile, sweep.tolerance, sweep.rtol,
                      fingerprint)
        hashes.append(h)
        if h in have:
            skipped += 1
            continue
        tasks.append(CellTask(key, h, key.model, blob, path.suffix, sweep.n, sweep.profile,
                              sweep.tolerance, sweep.rtol, sweep.chunk, first[key.model]))
    return Prepared(tasks, inputs, skipped, hashes)


def execute(prepared: Prepared, store: Store, client: Any,
            on_cell: Callable[[CellResult], None] | None = None) -> list[CellResult]:
    """Submit the cells to ``client`` and commit each as it finishes.

    The inputs are scattered to every worker (a killed worker takes no data with it), and a
    cell whose inputs were lost anyway is submitted again with the inputs sent afresh."""
    from distributed import as_completed

    shared: dict[str, Any] = {}

    def inputs(model: str, fresh: bool = False) -> Any:
        if fresh or model not in shared:
            xs, ys, _w = prepared.inputs[model]
            try:  # to every worker; a worker that is restarting must not hold it up
                shared[model] = client.scatter([xs, ys], broadcast=True, hash=False,
                                               timeout=30)
            except Exception:  # noqa: BLE001 - then to one worker: tasks fetch from it
                shared[model] = client.scatter([xs, ys], hash=False)
        return shared[model]

    for model in {t.model_name for t in prepared.tasks}:  # all before any task runs
        inputs(model)

    def submit(t: CellTask, attempt: int, fresh: bool = False) -> Any:
        xs_f, ys_f = inputs(t.model_name, fresh)
        return client.submit(run_cell, t, xs_f, ys_f, key=f"armsim-cell-{t.hash}-{attempt}",
                             pure=False, retries=RETRIES)

    futures = {submit(t, 0): (t, 0) for t in prepared.tasks}
    pending = as_completed(list(futures))
    done = []
    for fut in pending:
        t, attempt = futures.pop(fut)
        try:
            row = fut.result()
        except Exception as e:  # the task or its inputs were lost with a worker
            if attempt < RETRIES:
                again = submit(t, attempt + 1, fresh=True)
                futures[again] = (t, attempt + 1)
                pending.add(again)
                continue

            row = CellResult.of(t, "error", f"the cell's task failed: {type(e).__name__}: {e}")
        store.put(row)
        done.append(row)
        if on_cell is not None:
            on_cell(row)
    return done
