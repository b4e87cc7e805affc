"""Activations: what each computes in numpy, how a Keras activation name becomes one, and the
float32 C call that follows an op whose activation is not a clamp.

An activation is data on the op (:class:`armsim.graph.Activation`): clamps (linear, relu,
relu6, relu_n1_to_1) are fused into the kernels' clamp parameters; the others run in place
after the op (float32), or as their own int8 kernel (the ``activation`` op kind).
"""

from __future__ import annotations

import math
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
    "clip": "min(max(x, -c), c) (an LSTM's cell clip)",
    "silu": "x * sigmoid(x) (swish)",
    "hard_silu": "x * clip(x / 6 + 0.5, 0, 1) (hard swish)",
    "gelu": "x * Phi(x), the exact form (Keras' default)",
    "gelu_tanh": "0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (gelu approximate=True)",
    "elu": "x if x > 0 else exp(x) - 1",
    "selu": "1.0507 * (x if x > 0 else 1.6733 * (exp(x) - 1))",
    "softplus": "log(1 + exp(x))",
    "softsign": "x / (1 + |x|)",
    "exponential": "exp(x)",
    "mish": "x * tanh(softplus(x))",
    "log": "log(x) (TFLite LOG)",
    "abs": "|x| (TFLite ABS)",
    "neg": "-x (TFLite NEG)",
    "sqrt": "sqrt(x) (TFLite SQRT)",
    "rsqrt": "1 / sqrt(x) (TFLite RSQRT)",
    "square": "x * x (TFLite SQUARE)",
    "log_softmax": "x - max - log(sum exp(x - max)) over the last axis",
}
#: Keras' other names for them.
KERAS_NAMES = {"swish": "silu", "hard_swish": "hard_silu"}
#: The int8 kernels (activation.py): the clamps, CMSIS-NN's softmax, and TFLite's reference
#: arithmetic (a 256-entry table for the functions TFLite tabulates: quant.lookup_table).
INT8 = frozenset({"linear", "relu", "relu6", "relu_n1_to_1", "softmax", "leaky_relu",
                  "hard_silu", "tanh", "sigmoid", "gelu", "gelu_tanh", "elu", "exponential",
                  "log"})


def from_keras(value: Any, where: str) -> Activation:
    """A Keras activation (name or function) as an Activation, or a ModelError naming it."""
    name = value if isinstance(value, str) else getattr(value, "__name__", str(value))
    name = {"None": "linear", None: "linear"}.get(name, name)
    name = KERAS_NAMES.get(name, name)
    if name == "gelu" and getattr(value, "keywords", {}).get("approximate"):
        name = "gelu_tanh"  # functools.partial(gelu, approximate=True)
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
    if k == "clip":
        return np.clip(x, -float(act.max_value or 0.0), float(act.max_value or 0.0))
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
    if k in _MORE:
        return _MORE[k](x)
    raise ModelError(f"activation {k} has no numpy reference")


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _quiet(fn: Any, x: np.ndarray) -> np.ndarray:
    """``fn(x)`` with C's answers outside its domain (nan, inf) and no numpy warning."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return fn(x)


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(x)


#: numpy references of the float-only activations (float64).
_MORE = {
    "silu": lambda x: x / (1.0 + np.exp(-x)),
    "hard_silu": lambda x: x * np.clip(x / 6.0 + 0.5, 0.0, 1.0),
    "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0))),
    "gelu_tanh": lambda x: 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi)
                                                    * (x + 0.044715 * x ** 3))),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
    "selu": lambda x: 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * np.expm1(np.minimum(x, 0.0))),
    "softplus": _softplus,
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "exponential": np.exp,
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "log": lambda x: _quiet(np.log, x),
    "abs": np.abs,
    "neg": np.negative,
    "sqrt": lambda x: _quiet(np.sqrt, x),
    "rsqrt": lambda x: _quiet(lambda v: 1.0 / np.sqrt(v), x),
    "square": np.square,
    "log_softmax": lambda x: (x - x.max(axis=-1, keepdims=True)) - np.log(
        np.exp(x - x.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True)),
}


def c_after(op: Op, out: str, n: int, last: int) -> list[str]:
    """The float32 C call that applies ``op``'s activation in place to its ``n`` outputs at
    ``out`` (``last``: the size of the last axis, softmax's); none for clamps, which the
    kernels apply."""
    a = op.activation
    if a.clamp is not None:
        return []
    if a.kind == "leaky_relu":
        return [f"armsim_leaky_relu_f32({out}, {n}, {f32(a.alpha)}, {out});"]
    if a.kind in ("softmax", "log_softmax"):
        return [f"armsim_{a.kind}_f32({out}, {n // last}, {last}, {out});"]
    return [f"armsim_{a.kind}_f32({out}, {n}, {out});"]
