"""int8 quantization arithmetic computed on the host: how real scales become the integer
multipliers, shifts, offsets and clamps the CMSIS-NN kernels take.

The formulas are TensorFlow Lite's (``tensorflow/lite/kernels/internal/quantization_util.cc``
and each op's Prepare); CMSIS-NN states its s8 kernels are bit-exact with TFLite's reference
kernels when given these values:

* a real multiplier ``m > 0`` is ``q * 2**shift`` with ``q`` in [0.5, 1) (``frexp``); the
  multiplier is ``round(q * 2**31)`` (half away from zero), and ``shift`` is applied as a left
  shift when positive, a rounding right shift when negative. ``q`` rounding up to 1.0 becomes
  ``2**30`` with ``shift + 1``; ``shift < -31`` flushes to (0, 0).
* conv, depthwise and dense layers use ``m = s_in * s_w[c] / s_out`` per output channel
  (in double precision), with offsets ``-zp_in`` and ``+zp_out``;
* a fused ReLU/ReLU6 becomes a clamp ``[max(-128, zp + q(0)), min(127, zp + q(6))]`` with
  ``q(v) = round_float32(v / s_out)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Activation

QMIN, QMAX = -128, 127
#: The integer range of each quantized activation type (int16: 16x8 models).
RANGES = {"int8": (QMIN, QMAX), "int16": (-32768, 32767), "int32": (-2**31, 2**31 - 1)}
#: Left shift applied to both ADD/SUB inputs before rescaling, by activation type (TFLM's
#: PrepareAdd: 20 for int8, 15 for int16).
ADD_LEFT_SHIFTS = {"int8": 20, "int16": 15}
#: Integer bits of the scaled difference in the s8 softmax (TFLite/TFLM: 5).
SOFTMAX_DIFF_INTEGER_BITS = 5


@dataclass(frozen=True)
class Quant:
    """A tensor's affine quantization: real = scale * (q - zero_point).

    Attributes:
        scales: one per tensor, or one per channel along ``axis``
        zero_points: as many as ``scales``
        axis: the channel axis of per-channel scales (in the graph tensor's shape), else None
    """

    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    axis: int | None = None

    @property
    def scale(self) -> float:
        """The per-tensor scale (the first one of a per-channel tensor)."""
        return self.scales[0]

    @property
    def zero_point(self) -> int:
        """The per-tensor zero point."""
        return self.zero_points[0]

    @property
    def per_channel(self) -> bool:
        """True when the scales vary along ``axis``."""
        return len(self.scales) > 1

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        """Integers -> float32 reals (per-tensor scales only)."""
        return (np.float32(self.scale)
                * (np.asarray(q, np.int32) - self.zero_point).astype(np.float32))

    def quantize(self, x: np.ndarray, dtype: str = "int8") -> np.ndarray:
        """Float reals -> int8 (or int16), TFLite's QUANTIZE arithmetic: round(x / scale) +
        zp, clamped (float32 division, rounding half away from zero)."""
        v = np.asarray(x, np.float32) / np.float32(self.scale)
        r = np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))
        lo, hi = RANGES[dtype]
        return np.clip(r.astype(np.int64) + self.zero_point, lo, hi).astype(dtype)

    def to_json(self) -> dict[str, object]:
        """Stable keys for plans and reports."""
        return {"scales": list(self.scales) if self.per_channel else self.scale,
                "zero_points": list(self.zero_points) if self.per_channel else self.zero_point,
                "axis": self.axis}


def round_half_away(x: float) -> int:
    """C's ``std::round``: halves away from zero."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(m: float) -> tuple[int, int]:
    """(multiplier, shift) with ``m ~= multiplier * 2**(shift - 31)``; TFLite's
    ``QuantizeMultiplier``."""
    if m == 0.0:
        return 0, 0
    q, shift = math.frexp(m)
    fixed = round_half_away(q * (1 << 31))
    if fixed == 1 << 31:
        fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return fixed, shift


def requantize(x: int, multiplier: int, shift: int) -> int:
    """TFLite's ``MultiplyByQuantizedMultiplier`` (double rounding), on Python ints: what
    ``arm_nn_requantize`` computes on the chip."""
    left = max(shift, 0)
    right = max(-shift, 0)
    a = x * (1 << left)
    a = max(min(a, 2**31 - 1), -2**31)
    # SaturatingRoundingDoublingHighMul
    if a == -2**31 and multiplier == -2**31:
        high = 2**31 - 1
    else:
        ab = a * multiplier
        nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
        v = ab + nudge
        high = v >> 31 if v >= 0 else -((-v) >> 31)  # C division truncates
    # RoundingDivideByPOT
    if right == 0:
        return high
    mask = (1 << right) - 1
    remainder = high & mask
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> right) + (1 if remainder > threshold else 0)


def channel_multipliers(s_in: float, s_w: tuple[float, ...], s_out: float
                        ) -> tuple[list[int], list[int]]:
    """Per-channel (multipliers, shifts) of a conv/depthwise/dense layer:
    ``m[c] = s_in * s_w[c] / s_out`` in double precision."""
    pairs = [quantize_multiplier(float(s_in) * float(w) / float(s_out)) for w in s_w]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def fc_scale(s_in: float, s_w: float, s_out: float) -> float:
    """The double-precision scale TFLite's reference FULLY_CONNECTED requantizes with:
    ``s_in * s_w / s_out`` evaluated left to right in double."""
    return float(s_in) * float(s_w) / float(s_out)


def quantize_value(v: float, q: Quant) -> int:
    """TFLite's Quantize helper for activation bounds: zp + round(float32(v / scale))."""
    return q.zero_point + round_half_away(float(np.float32(v) / np.float32(q.scale)))


def activation_range(act: Activation, out: Quant, dtype: str = "int8") -> tuple[int, int]:
    """The int8 (or int16) clamp of a fused activation (TFLite's
    CalculateActivationRangeQuantized)."""
    lo, hi = RANGES[dtype]
    if act.kind == "linear":
        return lo, hi
    if act.kind == "relu":
        lo = max(lo, quantize_value(0.0, out))
        if act.max_value is not None:
            hi = min(hi, quantize_value(act.max_value, out))
        return lo, hi
    if act.kind == "relu6":
        return max(lo, quantize_value(0.0, out)), min(hi, quantize_value(6.0, out))
    if act.kind in ("relu_n1_to_1", "clip"):
        c = 1.0 if act.kind == "relu_n1_to_1" else float(act.max_value or 0.0)
        return max(lo, quantize_value(-c, out)), min(hi, quantize_value(c, out))
    raise ModelError(f"activation {act.kind} is not a clamp: it has no int8 range")


@dataclass(frozen=True)
class AddParams:
    """Requantization of an int8 ADD (TFLite's PrepareGeneralSubOp for int8)."""

    input1_offset: int
    input1_multiplier: int
    input1_shift: int
    input2_offset: int
    input2_multiplier: int
    input2_shift: int
    left_shift: int
    output_offset: int
    output_multiplier: int
    output_shift: int


def add_params(a: Quant, b: Quant, out: Quant, dtype: str = "int8") -> AddParams:
    """Both inputs rescaled to twice the larger input scale, summed, then rescaled; the
    inputs shifted left first by ``dtype``'s ADD_LEFT_SHIFTS."""
    left_shift = ADD_LEFT_SHIFTS[dtype]
    twice_max = 2.0 * max(a.scale, b.scale)
    m1 = quantize_multiplier(a.scale / twice_max)
    m2 = quantize_multiplier(b.scale / twice_max)
    mo = quantize_multiplier(twice_max / ((1 << left_shift) * out.scale))
    return AddParams(-a.zero_point, m1[0], m1[1], -b.zero_point, m2[0], m2[1], left_shift,
                     out.zero_point, mo[0], mo[1])


def tflm_fc_multiplier(s_in: float, s_w: float, s_out: float) -> tuple[int, int]:
    """(multiplier, shift) of a per-tensor dense layer as TFLM's
    GetQuantizedConvolutionMultipler computes it: the float32 product ``s_in * s_w``, then
    divided by ``s_out`` in double."""
    return quantize_multiplier(float(np.float32(s_in) * np.float32(s_w)) / float(s_out))


def softmax_s16_params(beta: float, s_in: float) -> tuple[int, int]:
    """(multiplier, left shift) of the s16 softmax: the input scaled so that [-65535, 0]
    is [-10, 0] (TFLM's CalculateSoftmaxParams for int16)."""
    return quantize_multiplier(float(np.float32(s_in)) * float(np.float32(beta))
                               / (10.0 / 65535.0))


def _lut_s16(fn: Callable[[np.float32], np.float32], input_scale: np.float32, input_zp: int,
             output_scale: np.float32) -> list[int]:
    """TFLite's LUTPopulateInt16<float> (kernels/internal/common.h): 512 samples of ``fn``
    over the int16 input range, each biased by half the interpolation error at its
    midpoint, and the last value; float32 arithmetic throughout, rounding half away."""
    f32 = np.float32

    def rnd(v: np.float32) -> np.float32:
        return f32(np.sign(v) * np.floor(np.abs(v) + f32(0.5)))

    in_min = input_scale * f32(-32768 - input_zp)
    in_max = input_scale * f32(32767 - input_zp)
    out_min, out_max = output_scale * f32(-32768), output_scale * f32(32767)
    steps = 512
    step = (in_max - in_min) / f32(steps)
    half = step / f32(2)
    inv = f32(65536) / (out_max - out_min)
    lut = []
    for i in range(steps):
        x = in_min + f32(i) * step
        val, mid, nxt = fn(x), fn(x + half), fn(in_min + f32(i + 1) * step)
        sample = rnd(val * inv)
        interp = rnd((nxt * inv + rnd(val * inv)) / f32(2))
        bias = rnd((interp - rnd(mid * inv)) / f32(2))
        lut.append(int(min(max(sample - bias, f32(-32768)), f32(32767))))
    lut.append(int(min(max(rnd(fn(in_max) * inv), f32(-32768)), f32(32767))))
    return lut


def sigmoid_tanh_s16_params(s_in: float, tanh: bool) -> tuple[int, int]:
    """(input multiplier, input left shift) of TFLM's int16 LOGISTIC/TANH (logistic_common.cc
    and tanh.cc Prepare): multiplier 0 for a power-of-two input scale the table reads
    directly (left shift 0, or 0/1 for tanh), else the scale to 1/(3 * 4096) units doubled
    until it passes 32767 / 2."""
    scale = float(np.float32(s_in))
    log2 = math.log(scale) * (1.0 / math.log(2.0))
    rounded = round_half_away(log2)
    left = 12 + rounded
    if abs(log2 - rounded) < 1e-3 and left in ((0, 1) if tanh else (0,)):
        return 0, left
    m, left = scale * 4096.0 * 3.0, 0
    while m <= 32767.0 / 2.0 and left <= 30:
        left += 1
        m *= 2.0
    return int(m), left


@lru_cache(maxsize=1)
def softmax_s16_luts() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The two 513-entry tables of the s16 softmax (TFLM's InitializeLutForInt16): exp(x)
    on [-10, 0] and 1 / (1 + x) on [0, 1]. ``expf`` is taken as the correctly rounded
    float32 of the double result."""
    f32 = np.float32
    rng = f32(65535)
    exp = _lut_s16(lambda v: f32(math.exp(float(v))), f32(10) / rng, 32767, f32(2) / rng)
    one = _lut_s16(lambda v: f32(1) / (f32(1) + v), f32(1) / rng, -32768, f32(2) / rng)
    return tuple(exp), tuple(one)


def mul_params(a: Quant, b: Quant, out: Quant) -> tuple[int, int]:
    """(multiplier, shift) of an int8 MUL: ``s_a * s_b / s_out``."""
    return quantize_multiplier(a.scale * b.scale / out.scale)


def softmax_params(beta: float, s_in: float) -> tuple[int, int, int]:
    """(multiplier, left shift, diff_min) of the s8 softmax (TFLite's
    PreprocessSoftmaxScaling and CalculateInputRadius with 5 integer bits)."""
    bits = SOFTMAX_DIFF_INTEGER_BITS
    real = min(beta * s_in * (1 << (31 - bits)), (1 << 31) - 1.0)
    mult, shift = quantize_multiplier(real)
    radius = math.floor(((1 << bits) - 1) * (1 << (31 - bits)) / (1 << shift))
    return mult, shift, -radius


def log_softmax_params(s_in: float) -> tuple[int, int, int, int, int]:
    """(multiplier, left shift, reverse multiplier, reverse shift, diff_min) of the int8
    LOG_SOFTMAX (TFLite's PreprocessLogSoftmaxScalingExp with beta 1 and 5 integer bits,
    and CalculateInputRadius)."""
    bits = SOFTMAX_DIFF_INTEGER_BITS
    mult, shift = quantize_multiplier(min(float(s_in) * (1 << (31 - bits)), (1 << 31) - 1.0))
    rmult, rshift = quantize_multiplier((1 << (31 - shift)) / float(mult))
    radius = math.floor(((1 << bits) - 1) * (1 << (31 - bits)) / (1 << shift))
    return mult, shift, rmult, rshift, -radius


def mean_params(q_in: Quant, q_out: Quant, span: int) -> tuple[int, int]:
    """(multiplier, shift) of an int8 MEAN over ``span`` elements: ``s_in / s_out`` with the
    1/span folded in as TFLite's QuantizedMeanOrSum folds it (shift by floor(log2(span)),
    capped at 32 and at 31 + shift, then an integer division by span)."""
    mult, shift = quantize_multiplier(q_in.scale / q_out.scale)
    sh = min(span.bit_length() - 1, 32, 31 + shift)
    return int((mult << sh) // span), shift - sh


def leaky_relu_params(alpha: float, s_in: float, s_out: float) -> tuple[int, int, int, int]:
    """(identity multiplier, identity shift, alpha multiplier, alpha shift) of LEAKY_RELU."""
    ident = quantize_multiplier(s_in / s_out)
    neg = quantize_multiplier(s_in * alpha / s_out)
    return ident[0], ident[1], neg[0], neg[1]


def _lut_fn(fn: str, x: np.float32) -> np.float32:
    """The float function TFLite tabulates for an int8 ``fn``, evaluated as its kernel does
    (float32 arguments; GELU's constants and erf/tanh in double, then float32)."""
    v = float(x)
    if fn == "tanh":
        return np.float32(math.tanh(v))
    if fn == "sigmoid":
        return np.float32(1.0) / (np.float32(1.0) + np.float32(math.exp(-v)))
    if fn == "elu":  # elu.cc: x < 0 ? exp(x) - 1 : x
        return np.float32(np.float32(math.exp(v)) - np.float32(1.0)) if v < 0 else x
    if fn == "exponential":  # exp.cc
        return np.float32(math.exp(v))
    if fn == "log":  # elementwise LOG: log of the dequantized value
        return np.float32(math.log(v)) if v > 0 else np.float32(-np.inf)
    if fn == "gelu":  # reference/gelu.h GeluTransform
        return np.float32(0.5 * v * (1.0 + math.erf(v * 0.7071067811865476)))
    if fn == "gelu_tanh":  # GeluTransformApproximate, sqrt(2/pi) as a float32 constant
        c = float(np.float32(0.7978845608028654))
        inner = float(np.float32(x + np.float32(0.044715) * x * x * x))
        return np.float32(0.5 * v * (1.0 + math.tanh(float(np.float32(c * inner)))))
    raise ModelError(f"armsim has no int8 lookup table for {fn}")


#: The functions TFLite's int8 kernels evaluate through a 256-entry table (LUTPopulate).
LUT_FUNCTIONS = ("tanh", "sigmoid", "elu", "exponential", "log", "gelu", "gelu_tanh")


def lookup_table(fn: str, q_in: Quant, q_out: Quant) -> np.ndarray:
    """The 256-entry int8 table TFLite's int8 TANH/LOGISTIC/ELU/EXP/LOG/GELU evaluate with
    (indexed by the input byte as uint8; TFLM elu.cc's PopulateLookupTable, TFLite's
    LUTPopulate): dequantize in float32, apply the function, divide by the output scale (as
    a multiply by its float32 inverse), round, add the zero point, clamp."""
    inv = np.float32(1.0) / np.float32(q_out.scale)
    table = np.zeros(256, np.int8)
    with np.errstate(over="ignore", invalid="ignore"):
        for v in range(QMIN, QMAX + 1):
            x = np.float32(q_in.scale) * np.float32(v - q_in.zero_point)
            y = float(np.float32(_lut_fn(fn, x) * inv))
            r = QMIN - q_out.zero_point if y == -math.inf or math.isnan(y) else \
                QMAX if y == math.inf else round_half_away(y)
            table[v & 0xFF] = max(QMIN, min(QMAX, r + q_out.zero_point))
    return table


# -- HARD_SWISH: TFLite's reference integer arithmetic, tabulated -------------------------
# (tensorflow/lite/kernels/internal/reference/hard_swish.h and TFLM's hard_swish_common.cc:
# 16-bit fixed point, gemmlowp's rounding doubling high multiply and rounding shift)
_I16 = (-(1 << 15), (1 << 15) - 1)


def _i16(v: int) -> int:
    """C's int16_t conversion (wraps)."""
    return (v + (1 << 15)) % (1 << 16) - (1 << 15)


def _srdhm16(a: int, b: int) -> int:
    """gemmlowp::SaturatingRoundingDoublingHighMul on int16."""
    if a == b == _I16[0]:
        return _I16[1]
    ab = a * b
    nudge = (1 << 14) if ab >= 0 else 1 - (1 << 14)
    return _i16(int((ab + nudge) / (1 << 15)))  # C's division truncates


def _sdhm16(a: int, b: int) -> int:
    """TFLite's SaturatingDoublingHighMul (rounds toward zero)."""
    if a == b == _I16[0]:
        return _I16[1]
    return _i16(int(a * b / (1 << 15)))


def _rdbpot(x: int, exponent: int) -> int:
    """gemmlowp::RoundingDivideByPOT."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def _sat_lshift16(v: int, amount: int) -> int:
    return max(_I16[0], min(_I16[1], v * (1 << amount)))


def _int16_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier then DownScaleInt32ToInt16Multiplier."""
    m32, exponent = quantize_multiplier(real)
    m16 = _I16[1] if m32 >= (2**31 - 1) - (1 << 15) else (m32 + (1 << 15)) >> 16
    return m16, exponent


def hard_swish_table(q_in: Quant, q_out: Quant) -> np.ndarray:
    """The 256-entry int8 table of TFLite's int8 HARD_SWISH (indexed by the input byte as
    uint8): its integer algorithm, evaluated for every input value."""
    hires = np.float32(np.float32(1.0 / 128.0) * np.float32(q_in.scale))
    out_m, out_e = _int16_multiplier(float(np.float32(hires / np.float32(q_out.scale))))
    relu_m, relu_e = _int16_multiplier(
        float(np.float32(hires / np.float32(np.float32(3.0) / np.float32(32768.0)))))
    if out_e > 0:
        raise ModelError("HARD_SWISH: the output scale is smaller than the input's / 128 "
                         "(TFLite's kernel refuses it too)")
    table = np.zeros(256, np.int8)
    for v in range(QMIN, QMAX + 1):
        x = _i16(v - q_in.zero_point)
        hi = _i16(x * (1 << 7))
        pre = _srdhm16(hi, out_m)
        r = hi
        if relu_e > 0:
            r = _sat_lshift16(r, relu_e - 1)
        r = _srdhm16(r, relu_m)
        if relu_e > 0:
            r = _sat_lshift16(r, 1)
        if relu_e < 0:
            r = _rdbpot(r, -relu_e)
        r = _i16((r + (1 << 15)) >> 1)
        out = _i16(_rdbpot(_sdhm16(r, pre), -out_e) + q_out.zero_point)
        table[v & 0xFF] = max(QMIN, min(QMAX, out))
    return table
