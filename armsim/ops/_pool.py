"""What the two pooling kinds (``max_pool2d``, ``avg_pool2d``) share: the numpy pooling,
the Keras readers (local and global pooling), the TFLite handler and the C calls."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from armsim.graph import LINEAR, Op, dims4
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops._conv import hwc, padded
from armsim.ops.base import OpCode
from armsim.ops.cgen import FloatContext, Int8Context, dims


def pool2d(x: np.ndarray, out_shape: tuple[int, ...], pool: tuple[int, int],
           strides: tuple[int, int], padding: tuple[int, int], kind: str) -> np.ndarray:
    """Max or average pooling in float64; padded cells are ignored (average divides by the
    valid cells)."""
    x = hwc(x).astype(np.float64)
    oh, ow, c = dims4(out_shape)
    ph, pw = pool
    sh, sw = strides
    fill = -np.inf if kind == "max" else 0.0
    xp = padded(x, padding[0], padding[1], oh, ow, ph, pw, sh, sw, 1, 1, fill)
    valid = padded(np.ones(x.shape[:2] + (1,)), padding[0], padding[1], oh, ow, ph, pw, sh, sw,
                   1, 1, 0.0)
    acc = np.full((oh, ow, c), fill)
    cnt = np.zeros((oh, ow, 1))
    for i in range(ph):
        for j in range(pw):
            patch = xp[i: i + (oh - 1) * sh + 1: sh, j: j + (ow - 1) * sw + 1: sw, :]
            v = valid[i: i + (oh - 1) * sh + 1: sh, j: j + (ow - 1) * sw + 1: sw, :]
            if kind == "max":
                acc = np.maximum(acc, patch)
            else:
                acc = acc + patch
                cnt = cnt + v
    return acc if kind == "max" else acc / cnt


KerasHandler = Callable[[Any, Any, list[str], Any], str]


def keras_local(kind: str) -> KerasHandler:
    """MaxPooling/AveragePooling 1D/2D into an op of ``kind``."""
    def handler(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
        cfg = layer.get_config()
        K.channels_last(layer)
        in_shape = b.tensors[ins[0]].shape
        out_shape = K.shape(out_kt)
        pool = K.pair(cfg["pool_size"])
        strides = K.pair(cfg["strides"] if cfg.get("strides") is not None else cfg["pool_size"])
        pads = K.padding(layer, cfg, K.spatial(in_shape), pool, strides, (1, 1),
                         K.spatial(out_shape))
        out = b.activation_out(layer, out_shape)
        b.ops.append(Op(layer.name, kind, (ins[0],), (out,), {
            "pool": pool, "strides": strides, "padding": pads, "activation": LINEAR},
            layer.name))
        return out
    return handler


def keras_global(kind: str) -> KerasHandler:
    """GlobalMaxPooling/GlobalAveragePooling 1D/2D: one window over the whole input."""
    def handler(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
        K.channels_last(layer)
        pool = K.spatial(b.tensors[ins[0]].shape)
        out = b.activation_out(layer, K.shape(out_kt))
        b.ops.append(Op(layer.name, kind, (ins[0],), (out,), {
            "pool": pool, "strides": pool, "padding": (0, 0), "activation": LINEAR},
            layer.name))
        return out
    return handler


def tflite(kind: str) -> Callable[[Any, int, list[int], list[int]], Op]:
    """MAX_POOL_2D / AVERAGE_POOL_2D into an op of ``kind``."""
    def handler(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
        o = b.r.options(i, "Pool2DOptions")
        x = b.activation(i, ins[0])
        y = b.activation(i, outs[0])
        T.same_quant(b, i, x, y)
        pool, strides = (o.FilterHeight(), o.FilterWidth()), (o.StrideH(), o.StrideW())
        attrs = {"pool": pool, "strides": strides,
                 "padding": T.pads(o.Padding(), T.hw(b.tensors[x].shape), pool, strides,
                                   (1, 1), T.hw(b.tensors[y].shape)),
                 "activation": T.fused(b, i, o.FusedActivationFunction())}
        return Op(f"{kind.split('_')[0]}pool_{i}", kind, (x,), (y,), attrs, b.r.op_name(i))
    return handler


def reference(g: Any, op: Op, value: Any, kind: str) -> np.ndarray:
    """The numpy output of a pooling op (``kind`` "max" or "avg")."""
    a = op.attrs
    return pool2d(value(op.inputs[0]), g.tensors[op.outputs[0]].shape, a["pool"],
                  a["strides"], a["padding"], kind)


def render_f32(ctx: FloatContext, i: int, op: Op, fn: str) -> list[str]:
    """The call of armsim's float32 pooling kernel ``fn``."""
    g = ctx.g
    a = op.attrs
    p = f"op{i}"
    prm = ctx.static("armsim_pool_params", f"{p}_params",
                     f"{{{ctx.tile(a['pool'])}, {ctx.tile(a['strides'])}, "
                     f"{ctx.tile(a['padding'])}, {ctx.clamp(op)}}}")
    idm = ctx.static("armsim_dims", f"{p}_in", dims(g.tensors[op.inputs[0]].shape))
    od = ctx.static("armsim_dims", f"{p}_out", dims(g.tensors[op.outputs[0]].shape))
    return [f"{fn}({prm}, {idm}, {ctx.ptr(op.inputs[0])}, {od}, "
            f"{ctx.ptr(op.outputs[0], const=False)});"]


def render_s8(ctx: Int8Context, i: int, op: Op, fn: str, scratch_size: str | None) -> OpCode:
    """The checked call of CMSIS-NN's s8 pooling kernel ``fn`` (its s16 twin on int16)."""
    if ctx.s16(op):
        fn, scratch_size = fn.replace("_s8", "_s16"), \
            scratch_size and scratch_size.replace("_s8", "_s16")
    g = ctx.g
    a = op.attrs
    p = f"op{i}"
    prm = ctx.static("cmsis_nn_pool_params", f"{p}_params",
                     f"{{{ctx.tile(a['strides'])}, {ctx.tile(a['padding'])}, {ctx.act(op)}}}")
    idm = ctx.static("cmsis_nn_dims", f"{p}_in", dims(g.tensors[op.inputs[0]].shape))
    fd = ctx.static("cmsis_nn_dims", f"{p}_filter",
                    f"{{1, {a['pool'][0]}, {a['pool'][1]}, 1}}")
    od = ctx.static("cmsis_nn_dims", f"{p}_out", dims(g.tensors[op.outputs[0]].shape))
    call = (f"cmsis_nn_context ctx = {ctx.scratch(i)};\n"
            f"    ARMSIM_CHECK({i}, {fn}(&ctx, {prm}, {idm}, {ctx.ptr(op.inputs[0])}, {fd}, "
            f"{od}, {ctx.ptr(op.outputs[0], const=False)}));")
    return OpCode([call], scratch_size)
