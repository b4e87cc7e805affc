"""gemmlowp's 32-bit fixed-point arithmetic as TensorFlow Lite's integer kernels use it, on
Python ints, so armsim can tabulate what an int8 operator computes for each of its 256
inputs (TFLite: ``tensorflow/lite/kernels/internal/common.h``; gemmlowp:
``fixedpoint/fixedpoint.h``).

A ``FixedPoint<int32_t, k>`` is a raw int32 ``v`` meaning ``v / 2**(31 - k)``; products of
two raws are ``SaturatingRoundingDoublingHighMul`` (integer bits add), ``Rescale`` to fewer
integer bits is a saturating left shift, and sums are plain int32 additions.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from armsim.quant import requantize

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


def srdhm(a: int, b: int) -> int:
    """``SaturatingRoundingDoublingHighMul``: round(a * b / 2**31), saturating the one
    overflowing case (both operands INT32_MIN)."""
    if a == b == I32_MIN:
        return I32_MAX
    ab = a * b
    v = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    return v >> 31 if v >= 0 else -((-v) >> 31)  # C's division truncates


def sat_shift_left(x: int, exponent: int) -> int:
    """``SaturatingRoundingMultiplyByPOT`` with a positive exponent: x * 2**exponent,
    saturated to int32."""
    return max(I32_MIN, min(I32_MAX, x * (1 << exponent)))


def count_leading_zeros(x: int) -> int:
    """Leading zero bits of ``x`` as a uint32 (32 for zero)."""
    return 32 - (x & 0xFFFFFFFF).bit_length()


def count_leading_sign_bits(x: int) -> int:
    """TFLite's ``CountLeadingSignBits`` of an int32."""
    if x >= 0:
        return count_leading_zeros(x) - 1
    return count_leading_zeros(2 * (-x) - 1) if x != I32_MIN else 0


def _one_over_one_plus_x(a: int) -> int:
    """gemmlowp's ``one_over_one_plus_x_for_x_in_0_1`` on an F0 raw: 1 / (1 + a) as an F0
    raw, by three Newton-Raphson steps in F2."""
    s = a + I32_MAX  # RoundingHalfSum(a, One): (s +- 1) / 2, C's division truncating
    half_den = (s + 1) // 2 if s >= 0 else -((1 - s) // 2)
    x = 1515870810 + srdhm(half_den, -1010580540)  # 48/17 - 32/17 * d, in F2
    one_f2 = 1 << 29
    for _ in range(3):
        hdx = srdhm(half_den, x)  # F0 * F2 -> F2
        e = one_f2 - hdx
        x = x + sat_shift_left(srdhm(x, e), 2)  # F2 * F2 -> F4, rescaled to F2
    return sat_shift_left(x, 1)  # ExactMulByPot<-1> makes it F1; Rescale<0>


def reciprocal(x: int, integer_digits: int = 31) -> tuple[int, int]:
    """TFLite's ``GetReciprocal``: (the F0 raw of 2**-n / x scaled into [0.5, 1), n = the
    bits of ``x`` above the unit) for a positive int32 ``x``."""
    headroom_plus_one = count_leading_zeros(x)
    bits_over_unit = integer_digits - headroom_plus_one
    shifted = ((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)
    return _one_over_one_plus_x(shifted), bits_over_unit


def inv_sqrt_multiplier(x: int, reverse_shift: int) -> tuple[int, int]:
    """TFLite's ``GetInvSqrtQuantizedMultiplierExp``: (multiplier, shift) of 1/sqrt(x)."""
    if x <= 1:
        return I32_MAX, 0
    shift = 11
    while x >= (1 << 29):
        x //= 4
        shift += 1
    pairs = (count_leading_zeros(x) - 1) // 2 - 1
    shift -= pairs
    x <<= 2 * pairs
    f_in = x >> 1  # F3
    half_in = _rdbpot(f_in, 1)
    half_three = (1 << 28) + (1 << 27)
    v = 1 << 28  # F3 one
    for _ in range(5):
        x3 = sat_shift_left(srdhm(srdhm(v, v), v), 6)  # F9 -> F3
        v = sat_shift_left(srdhm(half_three, v) - srdhm(half_in, x3), 3)  # F6 -> F3
    v = srdhm(v, 1518500250)  # times sqrt(2)/2 (F0): F3
    if shift < 0:
        v = (v << -shift) & 0xFFFFFFFF
        v = v - (1 << 32) if v >= (1 << 31) else v
        shift = 0
    return v, shift * reverse_shift


def _rdbpot(x: int, exponent: int) -> int:
    """gemmlowp's ``RoundingDivideByPOT``."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def each(f: Callable[..., int], *arrays: np.ndarray) -> np.ndarray:
    """``f`` on Python ints element by element over broadcast int arrays (int64 out)."""
    parts = np.broadcast_arrays(*(np.asarray(a, np.int64) for a in arrays))
    out = [f(*(int(v) for v in vals)) for vals in zip(*(p.ravel() for p in parts))]
    return np.asarray(out, np.int64).reshape(parts[0].shape)


def rescale(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """TFLite's ``MultiplyByQuantizedMultiplier`` on every element."""
    return each(lambda v: requantize(v, multiplier, shift), x)
