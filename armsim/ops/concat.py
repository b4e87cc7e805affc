"""``concat``: concatenation along any non-batch axis (Keras Concatenate; TFLite
CONCATENATION). int8 on CMSIS-NN's arm_concatenation_s8_x; int16 (16x8) as one copy walk
per input (:mod:`armsim.ops._copy`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops import _copy
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context

#: CMSIS-NN's arm_concatenation_s8_x takes 16-bit extents.
MAX_EXTENT = 0xFFFF


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    axis = int(layer.get_config().get("axis", -1))
    rank = len(b.tensors[ins[0]].shape)
    axis = axis + rank if axis < 0 else axis - 1  # to an axis of the batchless shape
    if not 0 <= axis < rank:
        raise ModelError(f"{K.where(layer)}: concatenation over the batch axis is not "
                         "supported")
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(layer.name, "concat", tuple(ins), (out,), {"axis": axis}, layer.name))
    return out


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    o = b.r.options(i, "ConcatenationOptions")
    xs = [b.activation(i, k) for k in ins]
    y = b.activation(i, outs[0])
    for x in xs:
        T.same_quant(b, i, x, y)
    rank = len(b.tensors[y].shape) + 1
    axis = o.Axis() % rank
    if axis == 0:
        raise ModelError(f"{b.where(i)}: concatenation along the batch axis")
    if o.FusedActivationFunction():
        raise ModelError(f"{b.where(i)}: a fused activation on CONCATENATION")
    outer = max(int(np.prod(b.tensors[x].shape[:axis - 1], dtype=np.int64)) for x in xs)
    inner = int(np.prod(b.tensors[y].shape[axis - 1:], dtype=np.int64))
    if not b.int16 and max(outer, inner) > MAX_EXTENT:  # int16 runs on the copy kernel
        raise ModelError(f"{b.where(i)}: concatenation extents over {MAX_EXTENT} (CMSIS-NN's "
                         "arm_concatenation_s8_x takes 16-bit sizes)")
    return Op(f"concat_{i}", "concat", tuple(xs), (y,), {"axis": axis - 1}, b.r.op_name(i))


def _chunks(g: Graph, op: Op) -> list[tuple[str, int, int]]:
    """(input, outer count, elements per outer step) of each input along the axis."""
    axis = op.attrs["axis"]
    out = []
    for name in op.inputs:
        shape = g.tensors[name].shape
        out.append((name, int(np.prod(shape[:axis], dtype=np.int64)),
                    int(np.prod(shape[axis:], dtype=np.int64))))
    return out


class Concat(OpKind):
    name = "concat"
    summary = "concatenation [axis]"
    keras = {"Concatenate": _keras}
    tflite = {"CONCATENATION": _tflite}
    tflite_int16 = frozenset(tflite)

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        return np.concatenate([value(n).astype(np.float64) for n in op.inputs],
                              axis=op.attrs["axis"])

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        out_t = ctx.g.tensors[op.outputs[0]]
        out = ctx.ptr(op.outputs[0], const=False)
        out_stride = int(np.prod(out_t.shape[op.attrs["axis"]:], dtype=np.int64))
        calls, offset = [], 0
        for name, outer, chunk in _chunks(ctx.g, op):
            calls.append(f"armsim_concat_f32({ctx.ptr(name)}, {outer}, {chunk}, {out_stride}, "
                         f"{out} + {offset});")
            offset += chunk
        return calls

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        if ctx.s16(op):  # int16: each input a block of the output, armsim's copy walk
            axis, calls, offset = op.attrs["axis"], [], 0
            for j, x in enumerate(op.inputs):
                shape = ctx.g.tensors[x].shape
                at = [offset if k == axis else 0 for k in range(len(shape))]
                parts = [[_copy.Part(n, k, 1)] for k, n in enumerate(shape)]
                calls += _copy.render(ctx, i, op, x, op.outputs[0], parts, [0] * len(shape),
                                      f"_{j}", at, shape)
                offset += shape[axis]
            return OpCode(calls)
        out_t = ctx.g.tensors[op.outputs[0]]
        out = ctx.ptr(op.outputs[0], const=False)
        out_chunk = int(np.prod(out_t.shape[op.attrs["axis"]:], dtype=np.int64))
        calls, offset = [], 0
        for name, outer, chunk in _chunks(ctx.g, op):
            if max(outer, out_chunk) > MAX_EXTENT:
                raise ModelError(f"op {op.name}: concatenation extents over {MAX_EXTENT} "
                                 "(CMSIS-NN's arm_concatenation_s8_x takes 16-bit sizes)")
            calls.append(f"arm_concatenation_s8_x({ctx.ptr(name)}, {chunk}, {outer}, 1, 1, "
                         f"{out}, {out_chunk}, {offset});")
            offset += chunk
        return OpCode(calls)


KIND = Concat()
