"""``upsample``: nearest-neighbour upsampling of height and width by whole factors (Keras
UpSampling1D/2D with ``interpolation="nearest"``), float32 graphs."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops._conv import hwc
from armsim.ops.resize import keras_resize
from armsim.ops.base import OpKind, Values
from armsim.ops.cgen import FloatContext, dims


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    K.channels_last(layer)
    if cfg.get("interpolation", "nearest") != "nearest":  # TensorFlow's image resize
        return keras_resize(b, layer, ins[0], out_kt, cfg["interpolation"])
    size = (1, int(cfg["size"])) if type(layer).__name__ == "UpSampling1D" else \
        K.pair(cfg["size"])
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(layer.name, "upsample", (ins[0],), (out,), {"size": size}, layer.name))
    return out


class Upsample(OpKind):
    name = "upsample"
    summary = "nearest-neighbour upsampling [size]"
    keras = {"UpSampling2D": _keras, "UpSampling1D": _keras}

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        sy, sx = op.attrs["size"]
        x = hwc(value(op.inputs[0])).astype(np.float64)
        return np.repeat(np.repeat(x, sy, axis=0), sx, axis=1)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        sy, sx = op.attrs["size"]
        idm = ctx.static("armsim_dims", f"op{i}_in", dims(ctx.g.tensors[op.inputs[0]].shape))
        return [f"armsim_upsample_nearest_f32({idm}, {ctx.ptr(op.inputs[0])}, {sy}, {sx}, "
                f"{ctx.ptr(op.outputs[0], const=False)});"]


KIND = Upsample()
