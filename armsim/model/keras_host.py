"""The host side: the Keras model's outputs and intermediate layer outputs (for a float32
``.tflite`` model, the TFLite interpreter's outputs).

Outputs are computed one input at a time through a traced function, so an input's figure
never depends on which other inputs shared its batch (Keras on the CPU gives batch-dependent
results in the last bits).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph
from armsim.model.frontends.keras import graph_tensors
from armsim.model.inputs import Rows
from armsim.model.tfimport import import_keras
from armsim.model.tflite_host import TFLiteFile


def _traced(model: Any, outputs: Any = None) -> Callable[[np.ndarray], list[np.ndarray]]:
    keras = import_keras()
    import tensorflow as tf

    sub = model if outputs is None else keras.Model(graph_tensors(model)[0], outputs)
    fn = tf.function(lambda x: sub(x, training=False), reduce_retracing=True)

    def call(x: Any) -> list[np.ndarray]:
        # a model with several inputs takes one array per input, in its input order
        arg = [tf.constant(np.asarray(a, np.float32)[np.newaxis]) for a in x] \
            if isinstance(x, tuple) else tf.constant(x[np.newaxis])
        out = fn(arg)
        out = out if isinstance(out, (list, tuple)) else [out]
        return [np.asarray(o)[0] for o in out]

    return call


def _interpreted(path: Path) -> Callable[[np.ndarray], list[np.ndarray]]:
    """One input at a time through the TFLite interpreter (a float32 ``.tflite`` host)."""
    f = TFLiteFile(path)
    if f.refused is not None:
        raise ModelError(f"{path}: the TFLite interpreter, the host of a float32 .tflite, "
                         f"does not run it: {f.refused}")

    def call(x: Any) -> list[np.ndarray]:
        out = f.run([np.asarray(a)[np.newaxis] for a in x] if isinstance(x, tuple)
                    else [x[np.newaxis]])
        if isinstance(out, str):
            raise ModelError(f"{path}: {out}")
        return [np.asarray(o, np.float32)[0] for o in out]

    return call


def is_keras(model: Any) -> bool:
    """True for a Keras model host (not a ``.tflite`` file's path)."""
    return model is not None and not isinstance(model, (str, Path))


def predict(model: Any, xs: np.ndarray, progress: Callable[[int], None] | None = None) -> np.ndarray:
    """(N, outputs) float32: every output of the model, flattened and joined, per input (a
    Keras model, or the path of a float32 ``.tflite`` file run by the TFLite interpreter)."""
    call = _traced(model) if is_keras(model) else _interpreted(Path(model))
    rows = []
    for x in (xs[i] for i in range(len(xs))) if isinstance(xs, Rows) \
            else np.asarray(xs, np.float32):
        rows.append(np.concatenate([o.reshape(-1) for o in call(x)]).astype(np.float32))
        if progress:
            progress(1)
    return np.stack(rows) if rows else np.zeros((0, 0), np.float32)


def layer_outputs(model: Any, g: Graph, x: np.ndarray) -> dict[str, np.ndarray]:
    """Each graph tensor that equals a Keras layer's output, computed by Keras, by tensor."""
    by_layer = graph_tensors(model)[1]
    wanted = {name: t.layer for name, t in g.tensors.items() if t.layer in by_layer}
    names = sorted(wanted)
    outs = [by_layer[wanted[n]] for n in names]
    if not outs:
        return {}
    vals = _traced(model, outs)(x if isinstance(x, tuple) else np.asarray(x, np.float32))
    return {n: np.asarray(v, np.float32).reshape(g.tensors[n].shape) for n, v in zip(names, vals)}
