"""``prelu``: the parametric ReLU, ``x if x >= 0 else alpha * x`` with a learned alpha per
channel (Keras PReLU shared over every axis but the last) or per element (any other
shared_axes, spelled out; TFLite PRELU), float32, and int8 on TFLite's reference integer
PRELU (kernels/s8/armsim_prelu_s8.c)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim import quant as Q
from armsim.errors import ModelError
from armsim.graph import Graph, Op, Tensor
from armsim.ops import _keras as K
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    alpha = np.asarray(layer.get_weights()[0], np.float32)
    shape = b.tensors[ins[0]].shape
    c = shape[-1]
    # a per-channel alpha is (1, ..., 1, C) with shared_axes = every axis but the last
    try:  # alpha's shape broadcasts to the input's (1 on each shared axis)
        full = np.broadcast_to(alpha, shape)
    except ValueError:
        raise ModelError(f"{K.where(layer)}: alpha of shape {list(alpha.shape)} does not "
                         f"broadcast to the input's {list(shape)}") from None
    flat = full.reshape(-1, c)
    per_channel = bool(np.all(flat == flat[:1]))
    a = b.const(f"{layer.name}.alpha", (flat[0] if per_channel else full.reshape(-1)).copy(),
                "weight")
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(layer.name, "prelu", (ins[0], a), (out,), {}, layer.name))
    return out


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    """TFLite PRELU: alpha, a constant broadcast to the input, kept per channel when it
    varies only along the last axis, else spelled out to the input's shape (int8: its
    values and quantization as the file has them)."""
    x = b.activation(i, ins[0])
    y = b.activation(i, outs[0])
    data = b.r.data(ins[1])
    if data is None:
        raise ModelError(f"{b.where(i)}: alpha is computed at run time; armsim needs a constant")
    dtype, q = "float32", None
    if not b.float32:  # int8 alpha with its own per-tensor quantization
        dtype, q = "int8", b.r.quant(ins[1])
        if b.r.dtype(ins[1]) != "int8" or q is None or q.per_channel:
            raise ModelError(f"{b.where(i)}: alpha must be per-tensor int8")
    shape = b.tensors[x].shape
    try:
        full = np.broadcast_to(np.asarray(data, dtype), (1, *shape))[0]
    except ValueError:
        raise ModelError(f"{b.where(i)}: alpha of shape {list(np.shape(data))} does not "
                         f"broadcast to {list(shape)}") from None
    flat = full.reshape(-1, shape[-1]) if shape else full.reshape(1, 1)
    per_channel = bool(np.all(flat == flat[:1]))
    alpha = flat[0].copy() if per_channel else full.reshape(-1).copy()
    name = f"{b.name(ins[1])}/{'x'.join(str(d) for d in alpha.shape)}"
    b.tensors[name] = Tensor(name, tuple(alpha.shape), dtype, "weight", data=alpha, quant=q)
    return Op(f"prelu_{i}", "prelu", (x, name), (y,), {}, b.r.op_name(i))


class PRelu(OpKind):
    name = "prelu"
    summary = "parametric ReLU, one alpha per channel or per element"
    keras = {"PReLU": _keras}
    tflite = {"PRELU": _tflite}

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        x = value(op.inputs[0]).astype(np.float64)
        alpha = value(op.inputs[1]).astype(np.float64).reshape(-1)
        a = np.resize(alpha, x.size).reshape(x.shape)  # alpha[i % len(alpha)], as the kernel
        return np.where(x >= 0, x, a * x)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        t = ctx.g.tensors[op.outputs[0]]
        c = ctx.g.tensors[op.inputs[1]].size  # per channel, or per element
        return [f"armsim_prelu_f32({ctx.ptr(op.inputs[0])}, {t.size}, {c}, "
                f"{ctx.ptr(op.inputs[1])}, {ctx.ptr(op.outputs[0], const=False)});"]

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        qi, qa, qo = (ctx.quant(t) for t in (*op.inputs, op.outputs[0]))
        im, ish = Q.quantize_multiplier(qi.scale / qo.scale)
        am, ash = Q.quantize_multiplier(qi.scale * qa.scale / qo.scale)
        prm = ctx.static("armsim_prelu_s8_params", f"op{i}_params",
                         f"{{{qi.zero_point}, {qa.zero_point}, {qo.zero_point}, {im}, {ish}, "
                         f"{am}, {ash}}}")
        n = ctx.g.tensors[op.outputs[0]].size
        c = ctx.g.tensors[op.inputs[1]].size
        return OpCode([f"armsim_prelu_s8({ctx.ptr(op.inputs[0])}, {n}, {c}, "
                       f"{ctx.ptr(op.inputs[1])}, {prm}, {ctx.ptr(op.outputs[0], const=False)});"])


KIND = PRelu()
