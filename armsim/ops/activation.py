"""``activation``: an element-wise activation as its own op, when it cannot fold into the op
before it (Keras Activation, ReLU, LeakyReLU, Softmax; TFLite SOFTMAX, TANH, LOGISTIC,
LEAKY_RELU, RELU, RELU6, and an int8 QUANTIZE inside the graph, a change of scale).

float32: a copy through the clamp kernel, then the activation in place
(:func:`armsim.ops.activations.c_after`). int8: CMSIS-NN's softmax; TFLite's reference
arithmetic in armsim's s8 kernels for the rest (a 256-entry table for TANH, LOGISTIC and
HARD_SWISH, the last from TFLite's integer algorithm; the same table for the functions TFLite
tabulates: ELU, GELU, EXP, LOG; and for ABS and RSQRT, from TFLite's integer arithmetic);
LOG_SOFTMAX on armsim's kernel of TFLite's reference integer arithmetic. int16 (16x8):
see :func:`_s16`. NEG, SQRT and SQUARE run on float32 graphs only."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from armsim import fixedpoint as F
from armsim import quant as Q
from armsim.errors import ModelError
from armsim.graph import DTYPE_BYTES, LINEAR, Activation, Graph, Op
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops import activations
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context
from armsim.quant import Quant


def _standalone(act: Callable[[Any], Activation]) -> Callable[..., str]:
    """A Keras activation layer: fused into the op before it when that op has a linear
    activation and no other reader, else an ``activation`` op."""
    def handler(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
        a = act(layer)
        if b.fuse_activation(ins[0], a, layer.name):
            return ins[0]
        out = b.activation_out(layer, K.shape(out_kt))
        b.ops.append(Op(layer.name, "activation", (ins[0],), (out,), {"activation": a},
                        layer.name))
        return out
    return handler


def _activation_layer(layer: Any) -> Activation:
    return activations.from_keras(layer.get_config()["activation"], K.where(layer))


def _relu_layer(layer: Any) -> Activation:
    cfg = layer.get_config()
    mx, slope, thr = cfg.get("max_value"), float(cfg.get("negative_slope") or 0), \
        float(cfg.get("threshold") or 0)
    if thr != 0:
        raise ModelError(f"{K.where(layer)}: ReLU with threshold {thr:g} is not supported")
    if slope and mx is not None:
        raise ModelError(f"{K.where(layer)}: ReLU with both max_value and negative_slope is "
                         "not supported")
    if slope:
        return Activation("leaky_relu", alpha=slope)
    if mx is not None and float(mx) == 6.0:
        return Activation("relu6")
    return Activation("relu", max_value=None if mx is None else float(mx))


def _leaky_layer(layer: Any) -> Activation:
    cfg = layer.get_config()
    return Activation("leaky_relu", alpha=float(cfg.get("negative_slope", cfg.get("alpha", 0.3))))


def _softmax_layer(layer: Any) -> Activation:
    axis = layer.get_config().get("axis", -1)
    if axis not in (-1, [-1]):
        raise ModelError(f"{K.where(layer)}: softmax over axis {axis} is not supported (only "
                         "the last axis)")
    return Activation("softmax")


def _unary(act: Callable[[Any, int], Activation]) -> Callable[..., Op]:
    def handler(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
        x = b.activation(i, ins[0])
        y = b.activation(i, outs[0])
        a = act(b, i)
        return Op(f"{a.kind}_{i}", "activation", (x,), (y,), {"activation": a},
                  b.r.op_name(i))
    return handler


def _softmax(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    o = b.r.options(i, "SoftmaxOptions")
    x = b.activation(i, ins[0])
    y = b.activation(i, outs[0])
    q = b.tensors[y].quant
    if q is not None and b.tensors[y].dtype == "int16":  # TFLM's checks
        s8_in = b.tensors[x].dtype == "int8"  # int8 -> int16: arm_softmax_s8_s16
        want, zp = (65536, -32768) if s8_in else (32768, 0)
        if abs(q.scale * want - 1) > 1e-3 or q.zero_point != zp:
            raise ModelError(f"{b.where(i)}: an int16 softmax output of an "
                             f"{b.tensors[x].dtype} input must have scale 1/{want} and zero "
                             f"point {zp} (has {q.scale:g}, {q.zero_point})")
    elif q is not None and (abs(q.scale - 1 / 256) > 1e-9 or q.zero_point != -128):
        raise ModelError(f"{b.where(i)}: int8 softmax output must have scale 1/256 and zero "
                         f"point -128 (has {q.scale:g}, {q.zero_point})")
    return Op(f"softmax_{i}", "activation", (x,), (y,),
              {"activation": Activation("softmax"), "beta": float(o.Beta())}, b.r.op_name(i))


def _log_softmax(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    x = b.activation(i, ins[0])
    y = b.activation(i, outs[0])
    q = b.tensors[y].quant
    if q is not None and (abs(q.scale - 16 / 256) > 1e-9 or q.zero_point != 127):
        raise ModelError(f"{b.where(i)}: int8 log-softmax output must have scale 16/256 and "
                         f"zero point 127 (has {q.scale:g}, {q.zero_point})")
    return Op(f"log_softmax_{i}", "activation", (x,), (y,),
              {"activation": Activation("log_softmax")}, b.r.op_name(i))


def _gelu(b: Any, i: int) -> Activation:
    o = b.r.options(i, "GeluOptions")
    return Activation("gelu_tanh" if o is not None and o.Approximate() else "gelu")


def _leaky(b: Any, i: int) -> Activation:
    return Activation("leaky_relu", alpha=float(b.r.options(i, "LeakyReluOptions").Alpha()))


#: TFLite's element-wise unary operators: the activation each is.
ELEMENTWISE: dict[str, Callable[[Any, int], Activation]] = {
    "TANH": lambda b, i: Activation("tanh"), "LOGISTIC": lambda b, i: Activation("sigmoid"),
    "LEAKY_RELU": _leaky, "RELU": lambda b, i: Activation("relu"),
    "RELU6": lambda b, i: Activation("relu6"), "HARD_SWISH": lambda b, i: Activation("hard_silu"),
    "ELU": lambda b, i: Activation("elu"), "GELU": _gelu,
    "EXP": lambda b, i: Activation("exponential"), "LOG": lambda b, i: Activation("log"),
    "ABS": lambda b, i: Activation("abs"), "NEG": lambda b, i: Activation("neg"),
    "SQRT": lambda b, i: Activation("sqrt"), "RSQRT": lambda b, i: Activation("rsqrt"),
    "SQUARE": lambda b, i: Activation("square"),
}


def float_island(b: Any, i: int, src: int, dst: int) -> Op:
    """An int8 file's DEQUANTIZE, element-wise operator ``i`` in float32, QUANTIZE (what the
    converter writes for an operator it keeps in float, ELU say) as one int8 activation op
    from tensor ``src`` to ``dst``, evaluated through a table of what the three compute
    (:func:`island_table`)."""
    a = ELEMENTWISE[b.r.op_name(i)](b, i)
    x = b.activation(i, src)
    y = b.activation(i, dst)
    return Op(f"{a.kind}_{i}", "activation", (x,), (y,),
              {"activation": a, "float_island": True}, b.r.op_name(i))


def table_op(b: Any, chain: Any) -> Op:
    """A chain of int8 operators of one tensor (:mod:`armsim.model.frontends.tflite_tables`)
    as one int8 activation op looking its output up in the chain's table."""
    x = b.activation(chain.last, chain.src)
    y = b.activation(chain.last, chain.dst)
    names = "+".join(b.r.op_name(k) for k in chain.ops)
    return Op(f"table_{chain.last}", "activation", (x,), (y,),
              {"activation": LINEAR, "table": chain.table, "tabulates": names},
              b.r.op_name(chain.last))


def island_table(act: Activation, q_in: Any, q_out: Any) -> np.ndarray:
    """The 256-entry table of DEQUANTIZE, ``act`` in float32, QUANTIZE as TFLite's reference
    kernels compute them: the input dequantized in double (scale * (v - zero point)) and
    rounded to float32, the function in float32, then round(y / scale) in float32 plus the
    zero point, clamped."""
    v = np.arange(Q.QMIN, Q.QMAX + 1)
    x = (float(np.float32(q_in.scale)) * (v - q_in.zero_point)).astype(np.float32)
    with np.errstate(all="ignore"):
        y = activations.apply(x.astype(np.float64), act).astype(np.float32)
        r = y / np.float32(q_out.scale)
    table = np.zeros(256, np.int8)
    for k, val in zip(v, r):
        f = float(val)
        q = Q.QMIN - q_out.zero_point if (math.isnan(f) or f == -math.inf) else \
            Q.QMAX if f == math.inf else Q.round_half_away(f)
        table[int(k) & 0xFF] = max(Q.QMIN, min(Q.QMAX, q + q_out.zero_point))
    return table


def _requantize(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    """QUANTIZE int8 -> int8 inside the graph: a change of scale (the frontend peels the
    float -> int8 QUANTIZE at the input off)."""
    x = b.activation(i, ins[0])
    y = b.activation(i, outs[0])
    return Op(f"requantize_{i}", "activation", (x,), (y,), {"activation": LINEAR},
              b.r.op_name(i))


def _abs_table(qi: Quant, qo: Quant) -> np.ndarray:
    """TFLite's int8 ABS (elementwise.cc AbsEvalQuantized): |x - zp_in| rescaled by
    s_in / s_out (a float32 quotient) when the scales differ, plus zp_out, clamped."""
    v = np.arange(Q.QMIN, Q.QMAX + 1)
    mag = np.abs(v - qi.zero_point)
    if np.float32(qi.scale) != np.float32(qo.scale):
        m, s = Q.quantize_multiplier(float(np.float32(qi.scale) / np.float32(qo.scale)))
        mag = F.rescale(mag, m, s)
    return _table(v, mag + qo.zero_point)


def _rsqrt_table(qi: Quant, qo: Quant) -> np.ndarray:
    """TFLite's int8 RSQRT (elementwise.cc RsqrtEvalQuantized): 1/sqrt(x - zp_in) from the
    fixed-point inverse square root, rescaled by 1 / (sqrt(s_in) * s_out) (float32), plus
    zp_out, clamped; a zero input gives the largest value."""
    m, s = Q.quantize_multiplier(1.0 / float(np.float32(np.sqrt(np.float32(qi.scale))) *
                                             np.float32(qo.scale)))
    v = np.arange(Q.QMIN, Q.QMAX + 1)
    out = []
    for x in v - qi.zero_point:
        if x == 0:
            out.append(Q.QMAX)
            continue
        im, ish = F.inv_sqrt_multiplier(int(x), -1)
        data = Q.requantize(1, im, ish + 20)
        out.append(Q.requantize(data, m, s - 20) + qo.zero_point)
    return _table(v, np.asarray(out))


def _table(v: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A 256-entry int8 table indexed by the input byte (as uint8) from values ``y`` of the
    inputs ``v``, clamped to int8."""
    table = np.zeros(256, np.int8)
    table[v & 0xFF] = np.clip(y, Q.QMIN, Q.QMAX)
    return table


def s8_table(act: Activation, qi: Quant, qo: Quant) -> np.ndarray | None:
    """The 256-entry table of an int8 activation TFLite evaluates element by element (None:
    softmax, leaky ReLU and the clamps, which have kernels of their own)."""
    if act.kind in Q.LUT_FUNCTIONS:
        return Q.lookup_table(act.kind, qi, qo)
    if act.kind == "hard_silu":
        return Q.hard_swish_table(qi, qo)
    if act.kind == "abs":
        return _abs_table(qi, qo)
    if act.kind == "rsqrt":
        return _rsqrt_table(qi, qo)
    if act.clamp is not None:  # RELU, RELU6, an int8 QUANTIZE: rescale and clamp
        m, s = Q.quantize_multiplier(qi.scale / qo.scale)
        lo, hi = Q.activation_range(act, qo)
        v = np.arange(Q.QMIN, Q.QMAX + 1)
        return _table(v, np.clip(F.rescale(v - qi.zero_point, m, s) + qo.zero_point, lo, hi))
    return None


def _unary_s8(r: Any, i: int, args: list[np.ndarray]) -> np.ndarray:
    """TFLite's int8 arithmetic of a unary element-wise operator, through its table."""
    name = r.op_name(i)
    act = LINEAR if name == "QUANTIZE" else ELEMENTWISE[name](SimpleNamespace(r=r), i)
    (qi, *_rest), qo = T.s8_quants(r, i)
    table = s8_table(act, qi, qo)
    if table is None:
        raise ModelError(f"op {i} {name}: armsim has no int8 arithmetic for it")
    return table[np.asarray(args[0], np.int64) & 0xFF].astype(np.int64)


def _requantize_across(ctx: Int8Context, op: Op, src: str, out: str) -> list[str]:
    """A QUANTIZE from one integer type to another (int16 -> int8 at a mixed file's input,
    int8 -> int16, int16 -> int32 at its output): TFLM's Requantize, clamped to the output
    type's range, on armsim's kernel of any element sizes."""
    t_in, t_out = ctx.g.tensors[op.inputs[0]], ctx.g.tensors[op.outputs[0]]
    qi, qo = ctx.quant(op.inputs[0]), ctx.quant(op.outputs[0])
    m, s = Q.quantize_multiplier(qi.scale / qo.scale)
    lo, hi = ctx.range(op)
    return [f"armsim_requantize_any({src}, {DTYPE_BYTES[t_in.dtype]}, {t_out.size}, "
            f"{qi.zero_point}, {qo.zero_point}, {m}, {s}, {lo}, {hi}, {out}, "
            f"{DTYPE_BYTES[t_out.dtype]});"]


def _s16(ctx: Int8Context, i: int, op: Op) -> list[str]:
    """An activation op of a 16x8 model: an int16 QUANTIZE (a change of scale), LOGISTIC
    and TANH (TFLM's reference arithmetic on CMSIS-NN's sigmoid table), or the softmax on
    CMSIS-NN's s16 kernel and its two tables (TFLM's)."""
    p = f"op{i}"
    qi, qo = ctx.quant(op.inputs[0]), ctx.quant(op.outputs[0])
    src, out = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0], const=False)
    if op.activation.kind == "linear" and ctx.g.tensors[op.outputs[0]].dtype != "int16":
        return _requantize_across(ctx, op, src, out)
    if op.activation.kind == "linear":  # QUANTIZE int16 -> int16 (TFLM's Requantize)
        m, s = Q.quantize_multiplier(qi.scale / qo.scale)
        lo, hi = ctx.range(op)
        return [f"armsim_requantize_s16({src}, {ctx.g.tensors[op.outputs[0]].size}, "
                f"{qi.zero_point}, {qo.zero_point}, {m}, {s}, {lo}, {hi}, {out});"]
    if op.activation.kind in ("sigmoid", "tanh"):  # TFLM's reference int16 arithmetic
        if abs(qo.scale * 32768 - 1) > 1e-6:
            raise ModelError(f"op {op.name}: an int16 {op.activation.kind} output must have "
                             f"scale 1/32768 (has {qo.scale:g}), as TFLM's kernel requires")
        tanh = op.activation.kind == "tanh"
        m, s = Q.sigmoid_tanh_s16_params(qi.scale, tanh)
        return [f"armsim_sigmoid_tanh_s16({src}, {ctx.g.tensors[op.outputs[0]].size}, {m}, "
                f"{s}, {int(tanh)}, {out});"]
    if op.activation.kind != "softmax":
        raise ModelError(f"op {op.name}: armsim has no int16 kernel for activation "
                         f"{op.activation.kind}")
    n, last = ctx.g.tensors[op.outputs[0]].size, ctx.g.tensors[op.outputs[0]].shape[-1]
    m, s = Q.softmax_s16_params(op.attrs.get("beta", 1.0), qi.scale)
    exp, one = Q.softmax_s16_luts()
    luts = ctx.static("cmsis_nn_softmax_lut_s16", f"{p}_luts",
                      f"{{{ctx.array('int16_t', f'{p}_exp', list(exp))}, "
                      f"{ctx.array('int16_t', f'{p}_one_by_one', list(one))}}}")
    return [f"ARMSIM_CHECK({i}, arm_softmax_s16({src}, {n // last}, {last}, {m}, {s}, {luts}, "
            f"{out}));"]


def _s8(ctx: Int8Context, i: int, op: Op) -> list[str]:
    if ctx.s16(op):
        return _s16(ctx, i, op)
    g = ctx.g
    p = f"op{i}"
    src, out = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0], const=False)
    n = g.tensors[op.outputs[0]].size
    qi, qo = ctx.quant(op.inputs[0]), ctx.quant(op.outputs[0])
    kind = op.activation.kind
    if op.attrs.get("float_island") or "table" in op.attrs:
        values = op.attrs["table"] if "table" in op.attrs else \
            island_table(op.activation, qi, qo)
        table = ctx.array("int8_t", f"{p}_table", [int(v) for v in values])
        return [f"armsim_lut_s8({src}, {n}, {table}, {out});"]
    if kind == "softmax":
        last = g.tensors[op.outputs[0]].shape[-1]
        m, s, diff_min = Q.softmax_params(op.attrs.get("beta", 1.0), qi.scale)
        fn = "arm_softmax_s8_s16" if g.tensors[op.outputs[0]].dtype == "int16" else \
            "arm_softmax_s8"
        return [f"{fn}({src}, {n // last}, {last}, {m}, {s}, {diff_min}, {out});"]
    if kind == "log_softmax":  # TFLite's reference integer arithmetic (kernels/s8)
        last = g.tensors[op.outputs[0]].shape[-1]
        m, s, rm, rs, diff_min = Q.log_softmax_params(qi.scale)
        return [f"armsim_log_softmax_s8({src}, {n // last}, {last}, {m}, {s}, {rm}, {rs}, "
                f"{diff_min}, {out});"]
    if kind in Q.LUT_FUNCTIONS or kind in ("hard_silu", "abs", "rsqrt"):
        values = s8_table(op.activation, qi, qo)
        assert values is not None
        table = ctx.array("int8_t", f"{p}_table", [int(v) for v in values])
        return [f"armsim_lut_s8({src}, {n}, {table}, {out});"]
    if kind == "leaky_relu":
        im, ish, am, ash = Q.leaky_relu_params(op.activation.alpha, qi.scale, qo.scale)
        return [f"armsim_leaky_relu_s8({src}, {n}, {qi.zero_point}, {qo.zero_point}, {im}, "
                f"{ish}, {am}, {ash}, {out});"]
    if kind == "linear" and g.tensors[op.outputs[0]].dtype != "int8":
        return _requantize_across(ctx, op, src, out)
    if op.activation.clamp is not None:  # RELU, RELU6, an int8 QUANTIZE (linear)
        m, s = Q.quantize_multiplier(qi.scale / qo.scale)
        lo, hi = Q.activation_range(op.activation, qo)
        return [f"armsim_requantize_s8({src}, {n}, {qi.zero_point}, {qo.zero_point}, {m}, {s}, "
                f"{lo}, {hi}, {out});"]
    raise ModelError(f"op {op.name}: armsim has no int8 kernel for activation {kind}")


class ActivationOp(OpKind):
    name = "activation"
    summary = "element-wise activation [activation]"
    keras = {"Activation": _standalone(_activation_layer), "ReLU": _standalone(_relu_layer),
             "LeakyReLU": _standalone(_leaky_layer), "Softmax": _standalone(_softmax_layer)}
    tflite = {"SOFTMAX": _softmax, **{k: _unary(f) for k, f in ELEMENTWISE.items()},
              "LOG_SOFTMAX": _log_softmax,
              "QUANTIZE": _requantize}
    tflite_float_only = frozenset({"NEG", "SQRT", "SQUARE"})
    tflite_int16 = frozenset({"SOFTMAX", "QUANTIZE", "LOGISTIC", "TANH"})
    tflite_s8_eval = {k: _unary_s8 for k in ELEMENTWISE if k not in
                      ("LEAKY_RELU", "NEG", "SQRT", "SQUARE")} | {"QUANTIZE": _unary_s8}
    tflite_islands = {k: float_island for k in ELEMENTWISE}

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        return value(op.inputs[0]).astype(np.float64)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        p = f"op{i}"
        n = ctx.g.tensors[op.outputs[0]].size
        src, out = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0], const=False)
        if op.activation.clamp is not None:
            cl = ctx.static("armsim_clamp", f"{p}_clamp", ctx.clamp(op))
        else:  # a copy; the activation follows in place
            cl = ctx.static("armsim_clamp", f"{p}_copy", "{-INFINITY, INFINITY}")
        return [f"armsim_clamp_f32({cl}, {src}, {n}, {out});"]

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        return OpCode(_s8(ctx, i, op))


KIND = ActivationOp()
