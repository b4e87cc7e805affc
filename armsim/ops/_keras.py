"""Reading Keras layers for the op kinds' Keras handlers: shapes, pairs, padding, geometry,
the channels-last check. Pure functions of a layer's config; no TensorFlow import."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import LINEAR, Op, same_padding
from armsim.ops._copy import broadcast_shape, spelled_out


def shape(kt: Any) -> tuple[int, ...]:
    """A KerasTensor's shape without the batch axis."""
    return tuple(int(d) for d in kt.shape[1:])


def pair(v: Any) -> tuple[int, int]:
    """An int or a 1- or 2-tuple as (h, w); 1-D layers get a height of 1."""
    if isinstance(v, int):
        return v, v
    t = tuple(int(x) for x in v)
    return (1, t[0]) if len(t) == 1 else (t[0], t[1])


def where(layer: Any) -> str:
    """``layer 'name' (Class)``, for messages (``operation ...`` for a Keras op node)."""
    if isinstance(layer, OpNode):
        return f"operation '{layer.name}' (keras.ops {layer.cls})"
    return f"layer '{layer.name}' ({type(layer).__name__})"


@dataclass(frozen=True)
class OpNode:
    """A Keras operation of a functional graph that is not a layer (``x + 3.0``, ``x * y``
    on KerasTensors: keras.ops), as its handler sees it: the op's name, its class and the
    positional arguments of the call (KerasTensors and constants)."""

    name: str
    cls: str
    args: tuple[Any, ...]


def op_key(operation: Any) -> str:
    """The registry key of a graph node's operation: the layer class name, or ``ops.<Class>``
    for a keras.ops operation."""
    cls = type(operation).__name__
    return f"ops.{cls}" if type(operation).__module__.startswith("keras.src.ops") else cls


def channels_last(layer: Any) -> None:
    """A ModelError for a channels-first layer."""
    fmt = layer.get_config().get("data_format", "channels_last")
    if fmt not in (None, "channels_last"):
        raise ModelError(f"{where(layer)}: data_format '{fmt}' is not supported; armsim "
                         "runs channels_last (NHWC) models")


def padding(layer: Any, cfg: dict[str, Any], in_hw: tuple[int, int], k: tuple[int, int],
            strides: tuple[int, int], dil: tuple[int, int], out_hw: tuple[int, int]
            ) -> tuple[int, int]:
    """(top, left) zero padding, TensorFlow's rule for 'same' (extra on the bottom/right)."""
    pad = cfg["padding"]
    if pad == "valid":
        return 0, 0
    if pad == "causal":
        return 0, (k[1] - 1) * dil[1]
    if pad != "same":
        raise ModelError(f"{where(layer)}: padding '{pad}' is not supported")
    return same_padding(in_hw, k, strides, dil, out_hw)


def spatial(s: tuple[int, ...]) -> tuple[int, int]:
    """(h, w) of an activation shape: (w, c) -> (1, w); (h, w, c) -> (h, w)."""
    return (1, s[0]) if len(s) == 2 else (s[0], s[1])


def geometry(b: Any, layer: Any, ins: list[str], out_kt: Any,
             kernel: np.ndarray) -> dict[str, Any]:
    """Kernel shape (1-D layers get a height of 1), strides, dilation and padding."""
    cfg = layer.get_config()
    k = (int(kernel.shape[0]), int(kernel.shape[1]))
    strides, dil = pair(cfg["strides"]), pair(cfg["dilation_rate"])
    pads = padding(layer, cfg, spatial(b.tensors[ins[0]].shape), k, strides, dil,
                   spatial(shape(out_kt)))
    return {"kernel": tuple(int(x) for x in kernel.shape), "strides": strides,
            "padding": pads, "dilation": dil}


def elementwise(kind: str, exactly: int | None = None) -> Any:
    """The Keras handler of an element-wise merge layer of op kind ``kind`` (``exactly``
    that many inputs, else two or more); inputs of other shapes are broadcast to the
    output's by NumPy's rules (a ``broadcast`` op each, before it)."""
    def handler(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
        if exactly is not None and len(ins) != exactly:
            raise ModelError(f"{where(layer)}: {len(ins)} inputs; it takes {exactly}")
        full = broadcast_shape([b.tensors[i].shape for i in ins], where(layer))
        spelled = []
        for x in ins:
            op, x = spelled_out(b.tensors, x, full, layer.name)
            if op is not None:
                b.ops.append(op)
            spelled.append(x)
        ins = spelled
        out = b.activation_out(layer, shape(out_kt))
        b.ops.append(Op(layer.name, kind, tuple(ins), (out,), {"activation": LINEAR},
                        layer.name))
        return out
    return handler
