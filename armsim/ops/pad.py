"""``pad``: zero padding of height and width (Keras ZeroPadding1D/2D; TFLite PAD and PADV2
with constant paddings; int8 pads with the output's zero point, CMSIS-NN's arm_pad_s8), and
cropping as negative padding (Keras Cropping1D/2D, float32 graphs: the same kernel reads
only inside the input)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops._conv import hwc
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context, dims


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    K.channels_last(layer)
    p = cfg["padding"]
    if type(layer).__name__ == "ZeroPadding1D":
        pads = (0, 0, *K.pair(p))
    else:
        if isinstance(p, int):
            p = ((p, p), (p, p))
        (t, bo), (le, r) = (K.pair(x) for x in p)
        pads = (t, bo, le, r)
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(layer.name, "pad", (ins[0],), (out,), {"pads": pads}, layer.name))
    return out


def _crop(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    K.channels_last(layer)
    c = cfg["cropping"]
    if type(layer).__name__ == "Cropping1D":
        pads = (0, 0, *(-v for v in K.pair(c)))
    else:
        (t, bo), (le, r) = (K.pair(x) for x in c)
        pads = (-t, -bo, -le, -r)
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(layer.name, "pad", (ins[0],), (out,), {"pads": pads}, layer.name))
    return out


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    x = b.activation(i, ins[0])
    pads = b.r.data(ins[1])
    if pads is None:
        raise ModelError(f"{b.where(i)}: the paddings are not constant")
    y = b.activation(i, outs[0])
    T.same_quant(b, i, x, y)
    pads = [tuple(int(v) for v in p) for p in pads.reshape(-1, 2)]
    if pads[0] != (0, 0) or len(pads) != 4 or pads[3] != (0, 0):
        raise ModelError(f"{b.where(i)}: only padding of height and width is supported "
                         f"(got {pads})")
    return Op(f"pad_{i}", "pad", (x,), (y,),
              {"pads": (pads[1][0], pads[1][1], pads[2][0], pads[2][1])}, b.r.op_name(i))


class Pad(OpKind):
    name = "pad"
    summary = "zero padding [pads] (negative pads crop)"
    keras = {"ZeroPadding2D": _keras, "ZeroPadding1D": _keras, "Cropping2D": _crop,
             "Cropping1D": _crop}
    tflite = {"PAD": _tflite, "PADV2": _tflite}

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        t, b, left, r = op.attrs["pads"]
        x = hwc(value(op.inputs[0])).astype(np.float64)
        x = x[max(-t, 0):x.shape[0] - max(-b, 0), max(-left, 0):x.shape[1] - max(-r, 0)]
        return np.pad(x, ((max(t, 0), max(b, 0)), (max(left, 0), max(r, 0)), (0, 0)))

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        g = ctx.g
        t, _b, left, _r = op.attrs["pads"]
        idm = ctx.static("armsim_dims", f"op{i}_in", dims(g.tensors[op.inputs[0]].shape))
        od = ctx.static("armsim_dims", f"op{i}_out", dims(g.tensors[op.outputs[0]].shape))
        return [f"armsim_pad_f32({idm}, {ctx.ptr(op.inputs[0])}, {t}, {left}, {od}, "
                f"{ctx.ptr(op.outputs[0], const=False)});"]

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        t, b, left, r = op.attrs["pads"]
        if min(t, b, left, r) < 0:
            raise ModelError(f"op {op.name}: cropping has no int8 kernel")
        p = f"op{i}"
        idm = ctx.static("cmsis_nn_dims", f"{p}_in", dims(ctx.g.tensors[op.inputs[0]].shape))
        pre = ctx.static("cmsis_nn_dims", f"{p}_pre", f"{{0, {t}, {left}, 0}}")
        post = ctx.static("cmsis_nn_dims", f"{p}_post", f"{{0, {b}, {r}, 0}}")
        return OpCode([f"ARMSIM_CHECK({i}, arm_pad_s8({ctx.ptr(op.inputs[0])}, "
                       f"{ctx.ptr(op.outputs[0], const=False)}, "
                       f"{ctx.quant(op.outputs[0]).zero_point}, {idm}, {pre}, {post}));"])


KIND = Pad()
