"""``select``: ``out = (l cmp r) ? a : b`` element-wise (TFLite SELECT/SELECT_V2 whose
condition is a comparison: GREATER, GREATER_EQUAL, LESS, LESS_EQUAL, EQUAL, NOT_EQUAL; what
the converter writes for selu), float32. The comparison folds into the select (armsim has
no boolean tensors): its operands become the op's first two inputs; a comparison read by
anything else is refused. Operands of other shapes are broadcast to the output's."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim import quant as Q
from armsim.errors import ModelError
from armsim.fixedpoint import rescale
from armsim.graph import Graph, Op
from armsim.ops import _tflite as T
from armsim.ops._copy import spelled_out
from armsim.ops.base import OpKind, Values
from armsim.ops.cgen import FloatContext

#: comparison operator -> (code in the C kernel, numpy function)
COMPARISONS = {"GREATER": (0, np.greater), "GREATER_EQUAL": (1, np.greater_equal),
               "LESS": (2, np.less), "LESS_EQUAL": (3, np.less_equal),
               "EQUAL": (4, np.equal), "NOT_EQUAL": (5, np.not_equal)}
_BY_CODE = {code: fn for code, fn in COMPARISONS.values()}


def _comparison(b: Any, i: int, ins: list[int], outs: list[int]) -> list[Op]:
    """A comparison is read where a SELECT reads it (no op of its own here)."""
    readers = [k for k in range(b.r.sg.OperatorsLength())
               if outs[0] in b.r.sg.Operators(k).InputsAsNumpy()]
    if not readers or any(b.r.op_name(k) not in ("SELECT", "SELECT_V2") or
                          int(b.r.sg.Operators(k).Inputs(0)) != outs[0] for k in readers):
        raise ModelError(f"{b.where(i)}: its boolean output is read by other than a SELECT's "
                         "condition; armsim has no boolean tensors")
    return []


def _operand(b: Any, i: int, idx: int, like: str, ops: list[Op]) -> str:
    if b.r.data(idx) is not None:
        return T.broadcast_const(b, i, idx, like)
    x = b.activation(i, idx)
    op, x = spelled_out(b.tensors, x, b.tensors[like].shape, b.r.op_name(i))
    if op is not None:
        ops.append(Op(f"select_{i}_broadcast{len(ops)}", op.kind, op.inputs, op.outputs,
                      op.attrs, op.layer))
    return x


def _select(b: Any, i: int, ins: list[int], outs: list[int]) -> list[Op]:
    c = b.r.producer(ins[0])
    if c is None or b.r.op_name(c) not in COMPARISONS:
        raise ModelError(f"{b.where(i)}: its condition is not a comparison armsim folds "
                         f"({', '.join(COMPARISONS)})")
    y = b.activation(i, outs[0])
    ops: list[Op] = []
    cin = [int(t) for t in b.r.sg.Operators(c).InputsAsNumpy()]
    xs = [_operand(b, i, t, y, ops) for t in (*cin[:2], *ins[1:3])]
    return ops + [Op(f"select_{i}", "select", tuple(xs), (y,),
                     {"cmp": COMPARISONS[b.r.op_name(c)][0]}, b.r.op_name(i))]


def _compare_s8(fn: Any) -> Any:
    def ev(r: Any, i: int, args: list[np.ndarray]) -> np.ndarray:
        """TFLite's int8 comparison (ComparisonWithScaling): each input shifted left 8 bits
        and rescaled by its own scale, then compared."""
        qs, _qo = T.s8_quants(r, i)
        sides = []
        for a, q in zip(args, qs):
            m, s = Q.quantize_multiplier(q.scale)
            sides.append(rescale((a - q.zero_point) * (1 << 8), m, s))
        return fn(sides[0], sides[1])
    return ev


def _select_s8(r: Any, i: int, args: list[np.ndarray]) -> np.ndarray:
    """TFLite's SELECT on int8: the values are copied (the converter gives both operands the
    output's quantization; armsim checks it)."""
    qs, qo = T.s8_quants(r, i)
    if qs[1] != qo or qs[2] != qo:
        raise ModelError(f"op {i} {r.op_name(i)}: int8 operands quantized unlike the output")
    return np.where(args[0].astype(bool), args[1], args[2])


class Select(OpKind):
    name = "select"
    summary = "(l cmp r) ? a : b element-wise (TFLite SELECT_V2 of a comparison) [cmp]"
    tflite = {"SELECT": _select, "SELECT_V2": _select,
              **{k: _comparison for k in COMPARISONS}}
    tflite_float_only = frozenset({"SELECT", "SELECT_V2", *COMPARISONS})
    tflite_s8_eval = {"SELECT": _select_s8, "SELECT_V2": _select_s8,
                      **{k: _compare_s8(fn) for k, (_c, fn) in COMPARISONS.items()}}

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        l_, r, a, bb = (value(t).astype(np.float32) for t in op.inputs)
        return np.where(_BY_CODE[op.attrs["cmp"]](l_, r), a, bb).astype(np.float64)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        n = ctx.g.tensors[op.outputs[0]].size
        args = ", ".join(ctx.ptr(t) for t in op.inputs)
        return [f"armsim_select_f32({op.attrs['cmp']}, {args}, {n}, "
                f"{ctx.ptr(op.outputs[0], const=False)});"]


KIND = Select()
