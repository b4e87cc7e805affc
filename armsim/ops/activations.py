"""Activations: what each computes in numpy, how a Keras activation name becomes one, and the
float32 C call that follows an op whose activation is not a clamp.

An activation is data on the op (:class:`armsim.graph.Activation`): clamps (linear, relu,
relu6, relu_n1_to_1) are fused into the kernels' clamp parameters; the others run in place
after the op (float32), or as their own int8 kernel (the ``activation`` op kind).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Activation, Op
from armsim.ops.cgen import f32

#: Activations the kernels implement: name -> what it computes.
ACTIVATIONS = {
    "linear": "x",
    "relu": "max(x, 0), optionally clipped at max_value",
    "relu6": "min(max(x, 0), 6)",
    "leaky_relu": "x if x >= 0 else alpha * x",
    "sigmoid": "1 / (1 + exp(-x))",
    "tanh": "tanh(x)",
    "hard_sigmoid": "clip(x / 6 + 0.5, 0, 1) (Keras 3)",
    "softmax": "exp(x - max) / sum exp(x - max) over the last axis",
    "relu_n1_to_1": "min(max(x, -1), 1) (TFLite fused activation)",
}


def from_keras(value: Any, where: str) -> Activation:
    """A Keras activation (name or function) as an Activation, or a ModelError naming it."""
    name = value if isinstance(value, str) else getattr(value, "__name__", str(value))
    name = {"None": "linear", None: "linear"}.get(name, name)
    if name == "leaky_relu":
        return Activation("leaky_relu", alpha=0.2)  # keras.activations.leaky_relu default
    if name not in ACTIVATIONS:
        raise ModelError(f"{where}: activation '{name}' is not supported; supported: "
                         f"{', '.join(ACTIVATIONS)}")
    return Activation(name)


def apply(x: np.ndarray, act: Activation) -> np.ndarray:
    """Apply an activation (float64 in, float64 out)."""
    k = act.kind
    if k == "linear":
        return x
    if k == "relu":
        y = np.maximum(x, 0.0)
        return y if act.max_value is None else np.minimum(y, act.max_value)
    if k == "relu6":
        return np.clip(x, 0.0, 6.0)
    if k == "relu_n1_to_1":
        return np.clip(x, -1.0, 1.0)
    if k == "leaky_relu":
        return np.where(x >= 0, x, act.alpha * x)
    if k == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if k == "tanh":
        return np.tanh(x)
    if k == "hard_sigmoid":
        return np.clip(x / 6.0 + 0.5, 0.0, 1.0)
    if k == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ModelError(f"activation {k} has no numpy reference")


def c_after(op: Op, out: str, n: int, last: int) -> list[str]:
    """The float32 C call that applies ``op``'s activation in place to its ``n`` outputs at
    ``out`` (``last``: the size of the last axis, softmax's); none for clamps, which the
    kernels apply."""
    a = op.activation
    if a.clamp is not None:
        return []
    if a.kind == "leaky_relu":
        return [f"armsim_leaky_relu_f32({out}, {n}, {f32(a.alpha)}, {out});"]
    if a.kind == "softmax":
        return [f"armsim_softmax_f32({out}, {n // last}, {last}, {out});"]
    return [f"armsim_{a.kind}_f32({out}, {n}, {out});"]
