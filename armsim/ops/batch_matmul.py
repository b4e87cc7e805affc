"""``batch_matmul``: matrix products over batch axes, ``out[..., m, n] = sum_k lhs[..., m, k]
* rhs[..., k, n]`` (TFLite BATCH_MATMUL, attention's einsums; Keras Dot between two
sequences), float32, int8 and int16 (CMSIS-NN's ``arm_batch_matmul_s8``/``_s16``, TFLM's
multiplier: the float32 product of the operands' scales over the output's).

The op holds the right operand transposed, ``rhs_t[..., n, k]``, as CMSIS-NN takes it: the
reader transposes a constant on the host and an activation with a ``transpose`` op before it
(likewise the left operand of an ``adj_x`` product). Up to two batch axes, each the same on
both sides or 1 on one (broadcast), as CMSIS-NN's ``{n, h}`` dims allow."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim import quant as Q
from armsim.errors import ModelError
from armsim.graph import LINEAR, Graph, Op, Tensor
from armsim.ops import _keras as K
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context


def _swap_last(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (*shape[:-2], shape[-1], shape[-2])


def _transposed(b: Any, x: str, layer: str, where: str) -> tuple[list[Op], str]:
    """``x`` with its last two axes swapped: a host-side copy of a constant, else a
    ``transpose`` op (returned) into a new activation tensor."""
    t = b.tensors[x]
    perm = (*range(len(t.shape) - 2), len(t.shape) - 1, len(t.shape) - 2)
    if t.data is not None:
        name = f"{x}/T"
        if name not in b.tensors:
            b.tensors[name] = Tensor(name, _swap_last(t.shape), t.dtype, t.role,
                                     data=np.ascontiguousarray(np.transpose(t.data, perm)),
                                     quant=t.quant)
        return [], name
    if hasattr(b, "derived"):  # the TFLite reader: the new tensor takes x's quantization
        y = b.derived(f"{x}/T", x, _swap_last(t.shape))
    else:  # the Keras frontend (float32)
        y = b.add_tensor(Tensor(b.name_for(f"{x}/T"), _swap_last(t.shape), t.dtype,
                                "activation", layer=layer))
    return [Op(f"{layer}_transpose_{x}", "transpose", (x,), (y,), {"perm": perm}, layer)], y


def _batch_dims(lhs: tuple[int, ...], rhs_t: tuple[int, ...], where: str) -> tuple[int, int]:
    """The output's ``(n, h)`` batch dims, checking the operands' batch axes broadcast."""
    if len(lhs) > 4 or len(rhs_t) > 4:
        raise ModelError(f"{where}: {max(len(lhs), len(rhs_t)) - 2} batch axes; armsim runs "
                         "at most two (CMSIS-NN's n and h)")
    bl = (1,) * (2 - (len(lhs) - 2)) + lhs[:-2]
    br = (1,) * (2 - (len(rhs_t) - 2)) + rhs_t[:-2]
    for a, c in zip(bl, br):
        if a != c and 1 not in (a, c):
            raise ModelError(f"{where}: batch axes {list(lhs[:-2])} and {list(rhs_t[:-2])} "
                             "do not broadcast")
    if lhs[-1] != rhs_t[-1]:
        raise ModelError(f"{where}: inner sizes differ ({lhs[-1]} and {rhs_t[-1]})")
    return max(bl[0], br[0]), max(bl[1], br[1])


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> list[Op]:
    o = b.r.options(i, "BatchMatMulOptions")
    adj_x, adj_y = (bool(o.AdjX()), bool(o.AdjY())) if o is not None else (False, False)
    ops: list[Op] = []
    names = []
    for k, idx in enumerate(ins[:2]):
        if b.r.data(idx) is not None:  # a constant operand (weights): per-tensor, batch-less
            names.append(b.const(i, idx, "weight", "int8", symmetric=False))
        else:
            names.append(b.activation(i, idx))
    lhs, rhs = names
    y = b.activation(i, outs[0])
    layer = b.r.op_name(i)
    if adj_x:
        made, lhs = _transposed(b, lhs, f"bmm_{i}", b.where(i))
        ops += made
    if not adj_y:  # the op takes rhs transposed
        made, rhs = _transposed(b, rhs, f"bmm_{i}", b.where(i))
        ops += made
    _batch_dims(b.tensors[lhs].shape, b.tensors[rhs].shape, b.where(i))
    return ops + [Op(f"batch_matmul_{i}", "batch_matmul", (lhs, rhs), (y,),
                     {"activation": LINEAR}, layer)]


def _keras_dot(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    """Keras Dot of two (T, F) sequences: axes (2, 2) is lhs @ rhs^T, (1, 1) lhs^T @ rhs,
    (2, 1) lhs @ rhs; normalize=True (cosine) is not run."""
    cfg = layer.get_config()
    if cfg.get("normalize"):
        raise ModelError(f"{K.where(layer)}: normalize=True is not supported")
    axes = cfg["axes"]
    axes = (axes, axes) if isinstance(axes, int) else tuple(axes)
    la, ra = (len(b.tensors[x].shape) + 1 if a < 0 else a for a, x in zip(axes, ins))
    if any(len(b.tensors[x].shape) != 2 for x in ins):
        raise ModelError(f"{K.where(layer)}: Dot of inputs of rank other than 3 (batch, T, F)"
                         " is not supported")
    lhs, rhs = ins
    if la == 1:  # contract lhs's first axis: lhs^T
        made, lhs = _transposed(b, lhs, layer.name, K.where(layer))
        b.ops.extend(made)
    if ra == 2:  # rhs[n, k] is already the transposed operand
        pass
    else:
        made, rhs = _transposed(b, rhs, layer.name, K.where(layer))
        b.ops.extend(made)
    _batch_dims(b.tensors[lhs].shape, b.tensors[rhs].shape, K.where(layer))
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(layer.name, "batch_matmul", (lhs, rhs), (out,), {"activation": LINEAR},
                    layer.name))
    return out


def _dims(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """``(n, h, rows, cols)`` of an operand or output."""
    pad = (1,) * (4 - len(shape))
    n, h, w, c = pad + tuple(shape)
    return n, h, w, c


class BatchMatMul(OpKind):
    name = "batch_matmul"
    summary = "matrix products over batch axes (TFLite BATCH_MATMUL, Keras Dot)"
    keras = {"Dot": _keras_dot}
    tflite = {"BATCH_MATMUL": _tflite}
    tflite_int16 = frozenset(tflite)

    def macs(self, g: Graph, op: Op) -> int:
        return g.tensors[op.outputs[0]].size * g.tensors[op.inputs[0]].shape[-1]

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        a = value(op.inputs[0]).astype(np.float64).reshape(g.tensors[op.inputs[0]].shape)
        bt = value(op.inputs[1]).astype(np.float64).reshape(g.tensors[op.inputs[1]].shape)
        return np.matmul(a, np.swapaxes(bt, -1, -2))

    def _dims(self, ctx: Any, p: str, op: Op, ctype: str) -> list[str]:
        return [ctx.static(ctype, f"{p}_{role}", "{%d, %d, %d, %d}" % _dims(
            ctx.g.tensors[t].shape)) for role, t in
            (("lhs", op.inputs[0]), ("rhs", op.inputs[1]), ("out", op.outputs[0]))]

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        ld, rd, od = self._dims(ctx, f"op{i}", op, "armsim_dims")
        return [f"armsim_batch_matmul_f32({ld}, {ctx.ptr(op.inputs[0])}, {rd}, "
                f"{ctx.ptr(op.inputs[1])}, {od}, {ctx.ptr(op.outputs[0], const=False)});"]

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        p = f"op{i}"
        ql, qr, qo = (ctx.quant(t) for t in (*op.inputs, op.outputs[0]))
        if qr.per_channel:
            raise ModelError(f"op {op.name}: a per-channel right operand is not supported")
        m, s = Q.tflm_fc_multiplier(ql.scale, qr.scale, qo.scale)  # TFLM's Prepare
        ld, rd, od = self._dims(ctx, p, op, "cmsis_nn_dims")
        prm = ctx.static("cmsis_nn_bmm_params", f"{p}_params",
                         f"{{false, false, {{{-ql.zero_point}, {-qr.zero_point}, "
                         f"{qo.zero_point}, {ctx.act(op)}}}}}")
        qp = ctx.static("cmsis_nn_per_tensor_quant_params", f"{p}_quant", f"{{{m}, {s}}}")
        return OpCode([f"cmsis_nn_context ctx = {{0, 0}};\n"
                       f"    ARMSIM_CHECK({i}, arm_batch_matmul_{'s16' if ctx.s16(op) else 's8'}"
                       f"(&ctx, {prm}, {qp}, {ld}, "
                       f"{ctx.ptr(op.inputs[0])}, {rd}, {ctx.ptr(op.inputs[1])}, {od}, "
                       f"{ctx.ptr(op.outputs[0], const=False)}));"])


KIND = BatchMatMul()
