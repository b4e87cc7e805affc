"""``resize``: height and width resized to any size, nearest-neighbour or bilinear (TFLite
RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR with ``align_corners`` and
``half_pixel_centers``; Keras Resizing, and UpSampling1D/2D with ``interpolation=
"bilinear"``, TensorFlow's half-pixel centres), float32 and int8.

Which input rows and columns each output pixel reads, and their weights, are computed on the
host exactly as TFLite's reference kernels compute them (float32 arithmetic for the float
kernel and for nearest-neighbour, 10-bit fixed point for the int8 bilinear kernel) and
passed to the kernels as tables: ``armsim_resize_nearest`` (any element size, a copy: one
quantization in and out), ``armsim_resize_bilinear_f32``, ``armsim_resize_bilinear_s8``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops._conv import hwc
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context

F = np.float32


def _scale(n_in: int, n_out: int, align: bool) -> np.float32:
    return F(n_in - 1) / F(n_out - 1) if align and n_out > 1 else F(n_in) / F(n_out)


def nearest_index(v: int, n_in: int, n_out: int, align: bool, half: bool) -> int:
    """TFLite's GetNearestNeighbor (float32)."""
    s = _scale(n_in, n_out, align)
    at = F(F(v) + F(0.5 if half else 0.0)) * s
    k = int(math.copysign(math.floor(abs(float(at)) + 0.5), float(at))) if align \
        else int(math.floor(float(at)))
    k = min(k, n_in - 1)
    return max(k, 0) if half else k


def bilinear_float(v: int, n_in: int, n_out: int, align: bool, half: bool
                   ) -> tuple[int, int, np.float32]:
    """(lower, upper, fraction) of TFLite's float ComputeInterpolationValues: the fraction is
    the scaled position less the (clamped) lower bound, as its kernel uses it."""
    s = _scale(n_in, n_out, align)
    at = F(F(F(v) + F(0.5)) * s - F(0.5)) if half else F(F(v) * s)
    lo = max(int(math.floor(float(at))), 0)
    hi = min(int(math.ceil(float(at))), n_in - 1)
    return lo, hi, F(at - F(lo))


def _cdiv(a: int, b: int) -> int:
    """C's integer division (toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def bilinear_int(v: int, n_in: int, n_out: int, align: bool, half: bool
                 ) -> tuple[int, int, int]:
    """(lower, upper, 10-bit weight of upper) of TFLite's ResizeBilinearInteger."""
    if align and n_out > 1:
        s10 = _cdiv((1 << 10) * (n_in - 1) + (n_out - 1) // 2, n_out - 1)
    else:
        s10 = _cdiv((1 << 10) * n_in + n_out // 2, n_out)
    at = v * s10 + s10 // 2 - (1 << 9) if half else v * s10
    lo = max(_cdiv(at, 1 << 10), 0)
    hi = min(_cdiv(at + (1 << 10) - 1, 1 << 10), n_in - 1)
    return lo, hi, at - (1 << 10) * lo


def _op(name: str, x: str, y: str, method: str, align: bool, half: bool,
        layer: str | None) -> Op:
    return Op(name, "resize", (x,), (y,), {"method": method, "align_corners": align,
                                          "half_pixel_centers": half}, layer)


def _tflite(method: str, options: str) -> Any:
    def handler(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
        x, y = b.activation(i, ins[0]), b.activation(i, outs[0])
        if len(b.tensors[x].shape) != 3:
            raise ModelError(f"{b.where(i)}: resizes a tensor of {len(b.tensors[x].shape)} "
                             "axes; armsim resizes (H, W, C)")
        if b.tensors[x].quant is not None:
            T.same_quant(b, i, x, y)
        o = b.r.options(i, options)
        align = bool(o.AlignCorners()) if o is not None else False
        half = bool(o.HalfPixelCenters()) if o is not None else False
        return _op(f"resize_{i}", x, y, method, align, half, b.r.op_name(i))
    return handler


def keras_resize(b: Any, layer: Any, src: str, out_kt: Any, method: str) -> str:
    """A Keras layer that resizes with TensorFlow's image resize (half-pixel centres)."""
    if method not in ("nearest", "bilinear"):
        raise ModelError(f"{K.where(layer)}: interpolation '{method}' is not supported "
                         "(nearest and bilinear are)")
    shape = b.tensors[src].shape
    if len(shape) == 2:  # UpSampling1D: (W, C) as (1, W, C)
        raise ModelError(f"{K.where(layer)}: bilinear resizing of a 1-D signal is not "
                         "supported")
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(_op(layer.name, src, out, method, False, True, layer.name))
    return out


def _resizing(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    K.channels_last(layer)
    if cfg.get("crop_to_aspect_ratio") or cfg.get("pad_to_aspect_ratio"):
        raise ModelError(f"{K.where(layer)}: crop_to_aspect_ratio/pad_to_aspect_ratio are not "
                         "supported")
    return keras_resize(b, layer, ins[0], out_kt, cfg.get("interpolation", "bilinear"))


def _tables(g: Graph, op: Op) -> tuple[tuple[int, ...], tuple[int, int], bool, bool]:
    (h, w, c) = g.tensors[op.inputs[0]].shape
    oh, ow, _c = g.tensors[op.outputs[0]].shape
    return (h, w, c), (oh, ow), op.attrs["align_corners"], op.attrs["half_pixel_centers"]


class Resize(OpKind):
    name = "resize"
    summary = "height and width resized, nearest or bilinear [method]"
    keras = {"Resizing": _resizing}
    tflite = {"RESIZE_NEAREST_NEIGHBOR": _tflite("nearest", "ResizeNearestNeighborOptions"),
              "RESIZE_BILINEAR": _tflite("bilinear", "ResizeBilinearOptions")}

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        (h, w, c), (oh, ow), al, hp = _tables(g, op)
        x = hwc(value(op.inputs[0])).reshape(h, w, c)
        if op.attrs["method"] == "nearest":
            ys = [nearest_index(v, h, oh, al, hp) for v in range(oh)]
            xs = [nearest_index(v, w, ow, al, hp) for v in range(ow)]
            return x[ys][:, xs].astype(np.float64)
        if g.quantized:  # the integer kernel's own arithmetic
            ty = [bilinear_int(v, h, oh, al, hp) for v in range(oh)]
            tx = [bilinear_int(v, w, ow, al, hp) for v in range(ow)]
            q = np.asarray(x, np.int64)
            out = np.zeros((oh, ow, c))
            for a, (y0, y1, wy) in enumerate(ty):
                for b_, (x0, x1, wx) in enumerate(tx):
                    acc = (q[y0, x0] * (1024 - wy) * (1024 - wx) + q[y1, x0] * wy * (1024 - wx)
                           + q[y0, x1] * (1024 - wy) * wx + q[y1, x1] * wy * wx)
                    rnd = np.where(acc > 0, 1 << 19, -(1 << 19))
                    out[a, b_] = np.trunc((acc + rnd) / (1 << 20))
            return out
        ty = [bilinear_float(v, h, oh, al, hp) for v in range(oh)]
        tx = [bilinear_float(v, w, ow, al, hp) for v in range(ow)]
        xf = np.asarray(x, np.float32)
        out = np.zeros((oh, ow, c), np.float32)
        one = F(1.0)
        for a, (y0, y1, dy) in enumerate(ty):
            for b_, (x0, x1, dx) in enumerate(tx):
                out[a, b_] = (xf[y0, x0] * (one - dy) * (one - dx) + xf[y1, x0] * dy * (one - dx)
                              + xf[y0, x1] * (one - dy) * dx + xf[y1, x1] * dy * dx)
        return out.astype(np.float64)

    def _nearest(self, ctx: Any, i: int, op: Op, size: int) -> list[str]:
        (h, w, c), (oh, ow), al, hp = _tables(ctx.g, op)
        ys = _ints(ctx, f"op{i}_ys", [nearest_index(v, h, oh, al, hp) for v in range(oh)])
        xs = _ints(ctx, f"op{i}_xs", [nearest_index(v, w, ow, al, hp) for v in range(ow)])
        return [f"armsim_resize_nearest({ctx.ptr(op.inputs[0])}, {size}, {w}, {c}, {oh}, "
                f"{ow}, {ys}, {xs}, {ctx.ptr(op.outputs[0], const=False)});"]

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        if op.attrs["method"] == "nearest":
            return self._nearest(ctx, i, op, 4)
        (h, w, c), (oh, ow), al, hp = _tables(ctx.g, op)
        ty = [bilinear_float(v, h, oh, al, hp) for v in range(oh)]
        tx = [bilinear_float(v, w, ow, al, hp) for v in range(ow)]
        y01 = _ints(ctx, f"op{i}_y01", [k for t in ty for k in t[:2]])
        x01 = _ints(ctx, f"op{i}_x01", [k for t in tx for k in t[:2]])
        dy = _floats(ctx, f"op{i}_dy", [t[2] for t in ty])
        dx = _floats(ctx, f"op{i}_dx", [t[2] for t in tx])
        return [f"armsim_resize_bilinear_f32({ctx.ptr(op.inputs[0])}, {w}, {c}, {oh}, {ow}, "
                f"{y01}, {dy}, {x01}, {dx}, {ctx.ptr(op.outputs[0], const=False)});"]

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        if op.attrs["method"] == "nearest":
            return OpCode(self._nearest(ctx, i, op, 1))
        (h, w, c), (oh, ow), al, hp = _tables(ctx.g, op)
        ys = ctx.array("int32_t", f"op{i}_ys", [k for v in range(oh)
                                               for k in bilinear_int(v, h, oh, al, hp)])
        xs = ctx.array("int32_t", f"op{i}_xs", [k for v in range(ow)
                                               for k in bilinear_int(v, w, ow, al, hp)])
        return OpCode([f"armsim_resize_bilinear_s8({ctx.ptr(op.inputs[0])}, {w}, {c}, {oh}, "
                       f"{ow}, {ys}, {xs}, {ctx.ptr(op.outputs[0], const=False)});"])


def _ints(ctx: Any, name: str, values: list[int]) -> str:
    """A static const int32_t table (either renderer's context)."""
    body = ", ".join(str(int(v)) for v in values)
    ctx.lines.append(f"static const int32_t {name}[{len(values)}] = {{{body}}};")
    return name


def _floats(ctx: Any, name: str, values: list[Any]) -> str:
    """A static const float table with exact (hex) literals."""
    body = ", ".join(f"{float(v).hex()}f" for v in values)
    ctx.lines.append(f"static const float {name}[{len(values)}] = {{{body}}};")
    return name


KIND = Resize()
