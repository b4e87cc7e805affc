"""``divide``: the element-wise quotient of two tensors (TFLite DIV between activations, a
keras.ops ``x / y`` between two tensors: scale_shift.py reads those), float32, operands
broadcast by a ``broadcast`` op before it. A division by a constant is a ``scale_shift``. int8 DIV runs only inside a tabulated chain of one
tensor (softsign's x / (1 + |x|)): :func:`_div_s8` is TFLite's reference arithmetic."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim import fixedpoint as F
from armsim import quant as Q
from armsim.graph import Graph, Op
from armsim.ops import _tflite as T
from armsim.ops.base import OpKind, Values, fold_reference
from armsim.ops.cgen import FloatContext, fold_f32


def _div_s8(r: Any, i: int, args: list[np.ndarray]) -> np.ndarray:
    """TFLite's int8 DIV (reference/div.h DivElementwise): the dividend times the divisor's
    fixed-point reciprocal, with the dividend's headroom, rescaled by s_a / (s_b * s_out)
    (a float32 expression in the kernel's Prepare). A zero divisor (undefined in TFLite)
    saturates by the dividend's sign."""
    (qa, qb), qo = T.s8_quants(r, i)
    m, s = Q.quantize_multiplier(float(np.float32(qa.scale) / (np.float32(qb.scale) *
                                                              np.float32(qo.scale))))

    def one(a: int, b: int) -> int:
        x, y = a - qa.zero_point, b - qb.zero_point
        if y == 0:
            return Q.QMAX if x >= 0 else Q.QMIN
        if y < 0:
            x, y = -x, -y
        inv, over_unit = F.reciprocal(y, 31)
        head = F.count_leading_sign_bits(x)
        quotient = Q.requantize(x, inv, head)
        return Q.requantize(quotient, m, s - over_unit - head) + qo.zero_point

    return T.s8_clamp(r, i, "DivOptions", F.each(one, args[0], args[1]))


class Divide(OpKind):
    name = "divide"
    summary = "element-wise quotient of two tensors (TFLite DIV) [activation]"
    tflite = {"DIV": T.binary("divide", "DivOptions")}
    tflite_float_only = frozenset({"DIV"})
    tflite_s8_eval = {"DIV": _div_s8}
    fusable = True

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return fold_reference(op, value, np.divide)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return fold_f32(ctx, i, op, "armsim_divide_f32")


KIND = Divide()
