"""The op registry: every op kind armsim knows (one module each in this package), looked up
by name, by Keras layer class or by TFLite operator, and what the rest of armsim asks of the
graph through them (MACs, whether a graph is a classifier).

Adding an op kind is one new module with an :class:`~armsim.ops.base.OpKind` and its line
in :data:`KINDS` (plus its C kernel and tests)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops import (
    activation,
    add,
    average,
    avg_pool2d,
    batch_matmul,
    broadcast,
    concat,
    conv2d,
    conv2d_transpose,
    depthwise_conv2d,
    divide,
    fully_connected,
    gather,
    layer_norm,
    lstm,
    max_pool2d,
    maximum,
    mean,
    minimum,
    mul,
    pack,
    pad,
    prelu,
    recurrent,
    reduce_max,
    reshape,
    resize,
    scale_shift,
    select,
    slice,
    squared_difference,
    sub,
    svdf,
    tile,
    transpose,
    upsample,
)
from armsim.ops.base import KerasHandler, OpKind, TfliteHandler

#: Every op kind, in the order the documentation lists them.
KINDS: tuple[OpKind, ...] = (
    conv2d.KIND, depthwise_conv2d.KIND, fully_connected.KIND, max_pool2d.KIND,
    avg_pool2d.KIND, add.KIND, concat.KIND, pad.KIND, reshape.KIND, activation.KIND,
    scale_shift.KIND, mul.KIND, sub.KIND, maximum.KIND, minimum.KIND, average.KIND,
    mean.KIND, reduce_max.KIND, upsample.KIND, conv2d_transpose.KIND, prelu.KIND,
    transpose.KIND, broadcast.KIND, slice.KIND, tile.KIND, gather.KIND, pack.KIND,
    resize.KIND, recurrent.KIND, divide.KIND, squared_difference.KIND,
    batch_matmul.KIND, layer_norm.KIND, select.KIND, lstm.KIND, svdf.KIND,
)


def _index() -> tuple[dict[str, OpKind], dict[str, OpKind], dict[str, OpKind]]:
    by_name: dict[str, OpKind] = {}
    by_keras: dict[str, OpKind] = {}
    by_tflite: dict[str, OpKind] = {}
    for k in KINDS:
        for table, key in ((by_name, k.name), *((by_keras, c) for c in k.keras),
                           *((by_tflite, t) for t in k.tflite)):
            if key in table:  # a layer or operator maps to one kind
                raise RuntimeError(f"{key} is registered by {table[key].name} and {k.name}")
            table[key] = k
    return by_name, by_keras, by_tflite


_BY_NAME, _BY_KERAS, _BY_TFLITE = _index()


def get(kind: str) -> OpKind:
    """The op kind named ``kind`` (a ModelError for a graph holding an unknown kind)."""
    k = _BY_NAME.get(kind)
    if k is None:
        raise ModelError(f"op kind {kind!r} is not one armsim knows ({', '.join(_BY_NAME)})")
    return k


def of(op: Op) -> OpKind:
    """The kind of ``op``."""
    return get(op.kind)


def summaries() -> dict[str, str]:
    """Every op kind and what it computes."""
    return {k.name: k.summary for k in KINDS}


def keras_handler(layer_class: str) -> KerasHandler | None:
    """The handler of a Keras layer class (None: no kind reads it)."""
    k = _BY_KERAS.get(layer_class)
    return k.keras[layer_class] if k is not None else None


def keras_layers() -> list[str]:
    """Every Keras layer class some op kind reads."""
    return sorted(_BY_KERAS)


def tflite_kind(operator: str) -> OpKind | None:
    """The op kind a TFLite builtin operator becomes (None: none)."""
    return _BY_TFLITE.get(operator)


def tflite_handler(operator: str) -> TfliteHandler | None:
    """The handler of a TFLite builtin operator (None: no kind reads it)."""
    k = _BY_TFLITE.get(operator)
    return k.tflite[operator] if k is not None else None


def tflite_island(operator: str) -> Callable[..., Op] | None:
    """The handler of TFLite ``operator`` kept in float32 between a DEQUANTIZE and a
    QUANTIZE in an int8 file (OpKind.tflite_islands), or None."""
    k = _BY_TFLITE.get(operator)
    return k.tflite_islands.get(operator) if k is not None else None


def tflite_s8_eval(operator: str) -> Callable[..., np.ndarray] | None:
    """TFLite's int8 arithmetic of ``operator`` on integer arrays (OpKind.tflite_s8_eval),
    or None."""
    k = _BY_TFLITE.get(operator)
    return k.tflite_s8_eval.get(operator) if k is not None else None


def tflite_int8(operator: str) -> bool:
    """Whether armsim runs TFLite ``operator`` in an int8 file (its kind has an int8 kernel
    for it)."""
    k = _BY_TFLITE.get(operator)
    return k is not None and operator not in k.tflite_float_only


def tflite_int16(operator: str) -> bool:
    """Whether armsim runs TFLite ``operator`` in a 16x8 file (int16 activations)."""
    k = _BY_TFLITE.get(operator)
    return k is not None and operator in k.tflite_int16


def tflite_operators() -> list[str]:
    """Every TFLite builtin operator some op kind reads."""
    return sorted(_BY_TFLITE)


def op_macs(g: Graph, op: Op) -> int:
    """Multiply-accumulates of one op (0 for ops without multiplies)."""
    return of(op).macs(g, op)


def macs(g: Graph) -> int:
    """Multiply-accumulates of one inference."""
    return sum(op_macs(g, o) for o in g.ops)


def is_classifier(g: Graph) -> bool:
    """One rank-1 output of 2+ values ending in softmax or sigmoid (looking through ops that
    only reshape): its argmax is a class."""
    if len(g.outputs) != 1:
        return False
    t = g.tensors[g.outputs[0]]
    last = g.producer(t.name)
    while last is not None and of(last).alias:
        last = g.producer(last.inputs[0])
    return (len(t.shape) == 1 and t.shape[0] >= 2 and last is not None
            and last.activation.kind in ("softmax", "sigmoid"))
