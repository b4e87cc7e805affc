"""A plain numpy evaluation of a :class:`Graph`, keeping every intermediate tensor.

Each op is computed in float64 from float32 inputs by its kind's numpy reference
(:mod:`armsim.ops`), its fused activation applied, and the result rounded to float32, so this
is an independent check of both the kernels and the frontend's lowering (tests compare it with
Keras and with the emulator; the diagnosis uses it where a tensor has no Keras layer).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from armsim.graph import Graph, Op
from armsim.ops import activations, registry


def run_op(g: Graph, op: Op, values: Mapping[str, np.ndarray]) -> np.ndarray:
    """One op's output (float32, in its tensor's shape) from the values of its inputs."""
    out_t = g.tensors[op.outputs[0]]

    def value(name: str) -> np.ndarray:
        t = g.tensors[name]
        return t.data if t.data is not None else values[name]

    y = registry.of(op).reference(g, op, value)
    y = activations.apply(np.asarray(y, np.float64).reshape(out_t.shape), op.activation)
    return y.astype(np.float32)


def evaluate(g: Graph, inputs: Mapping[str, np.ndarray] | np.ndarray) -> dict[str, np.ndarray]:
    """Every tensor's value for one input (an array for a one-input graph, a tuple in the
    graph's input order, or by name)."""
    if isinstance(inputs, tuple):
        inputs = dict(zip(g.inputs, inputs))
    elif isinstance(inputs, np.ndarray):
        inputs = {g.inputs[0]: inputs}
    values: dict[str, np.ndarray] = {}
    for name in g.inputs:
        values[name] = np.asarray(inputs[name], np.float32).reshape(g.tensors[name].shape)
    for op in g.ops:
        values[op.outputs[0]] = run_op(g, op, values)
    return values


def outputs(g: Graph, x: np.ndarray) -> np.ndarray:
    """The graph's outputs for one input, flattened and joined in output order."""
    v = evaluate(g, x)
    return np.concatenate([v[n].reshape(-1) for n in g.outputs])
