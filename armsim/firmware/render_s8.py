"""Render the firmware of an int8 graph: ``network.c`` calling CMSIS-NN's s8 kernels (and
armsim's own s8 kernels where CMSIS-NN has none), one ``noinline`` function per op, with
every multiplier, shift, offset and clamp computed on the host by :mod:`armsim.quant`; and
``scratch.c``, which asks CMSIS-NN's ``*_get_buffer_size`` functions on the target CPU how
much scratch each op needs, so the plan can place it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from armsim import quant as Q
from armsim.firmware.render import op_symbol, program
from armsim.graph import Graph, Op, dims4
from armsim.plan import Plan
from armsim.quant import Quant

#: Where the first failing CMSIS-NN call is recorded (read by the emulator after a run).
STATUS = "armsim_cmsis_status"
FAILED_OP = "armsim_failed_op"
SIZES = "armsim_scratch_sizes"
#: Ops whose CMSIS-NN kernel takes a scratch buffer.
SCRATCH_KINDS = ("conv2d", "depthwise_conv2d", "fully_connected", "avg_pool2d")


def _q(g: Graph, name: str) -> Quant:
    q = g.tensors[name].quant
    if q is None:
        raise ValueError(f"tensor {name} has no quantization")
    return q


def _ints(values: list[int]) -> str:
    return ", ".join(str(int(v)) for v in values)


@dataclass
class _Ctx:
    g: Graph
    plan: Plan | None
    cmsis_fc: bool = False
    lines: list[str] = field(default_factory=list)

    def doubles(self, name: str, values: list[float]) -> str:
        """A static const double array with exact (hex) literals."""
        body = ",\n    ".join(float(v).hex() for v in values)
        self.lines.append(f"static const double {name}[{len(values)}] UNUSED = {{\n    {body}\n}};")
        return name

    def static(self, ctype: str, name: str, init: str) -> str:
        self.lines.append(f"static const {ctype} {name} UNUSED = {init};")
        return f"&{name}"

    def array(self, ctype: str, name: str, values: list[int]) -> str:
        rows = [values[k:k + 16] for k in range(0, len(values), 16)] or [[]]
        body = ",\n    ".join(_ints(r) for r in rows)
        self.lines.append(f"static const {ctype} {name}[{len(values)}] UNUSED = {{\n    {body}\n}};")
        return name

    def ptr(self, tensor: str, ctype: str = "int8_t", const: bool = True) -> str:
        if self.plan is None:  # the scratch-size program passes no data
            return "0"
        b = self.plan.for_tensor(tensor)
        if b.region == "flash":
            return b.symbol
        q = "const " if const else ""
        return f"(({q}{ctype} *){b.symbol.upper()}_ADDR)"

    def scratch(self, i: int) -> str:
        """A cmsis_nn_context initializer for op ``i``'s scratch (NULL when it needs none)."""
        if self.plan is None:
            return "{0, 0}"
        try:
            b = self.plan[f"scratch:{i}"]
        except KeyError:
            return "{0, 0}"
        return f"{{(void *){b.symbol.upper()}_ADDR, {b.nbytes}}}"


def _dims(shape: tuple[int, ...]) -> str:
    h, w, c = dims4(shape)
    return f"{{1, {h}, {w}, {c}}}"


def _tile(t: tuple[int, int]) -> str:  # cmsis_nn_tile is {w, h}
    return f"{{{t[1]}, {t[0]}}}"


def _act(op: Op, out: Quant) -> str:
    lo, hi = Q.activation_range(op.activation, out)
    return f"{{{lo}, {hi}}}"


def _per_channel(ctx: _Ctx, p: str, op: Op, n_out: int) -> str:
    """Static multiplier/shift arrays for every output channel and the quant-params struct."""
    g = ctx.g
    qi, qw, qo = _q(g, op.inputs[0]), _q(g, op.inputs[1]), _q(g, op.outputs[0])
    scales = qw.scales if qw.per_channel else qw.scales * n_out
    mult, shift = Q.channel_multipliers(qi.scale, scales, qo.scale)
    ctx.array("int32_t", f"{p}_mult", mult)
    ctx.array("int32_t", f"{p}_shift", shift)
    return ctx.static("cmsis_nn_per_channel_quant_params", f"{p}_quant",
                      f"{{(int32_t *){p}_mult, (int32_t *){p}_shift}}")


@dataclass(frozen=True)
class OpCode:
    """The C of one op: kernel calls, and the expression giving its scratch size (if any)."""

    calls: list[str]
    scratch_size: str | None = None


def op_code(ctx: _Ctx, i: int, op: Op) -> OpCode:
    """Declarations (into ``ctx.lines``) and calls of op ``i``."""
    g = ctx.g
    out_t = g.tensors[op.outputs[0]]
    out = ctx.ptr(op.outputs[0], const=False)
    src = ctx.ptr(op.inputs[0])
    n = out_t.size
    a = op.attrs
    p = f"op{i}"
    qo = _q(g, op.outputs[0])
    if op.kind in ("conv2d", "depthwise_conv2d"):
        qi = _q(g, op.inputs[0])
        kh, kw, cin, last = a["kernel"]
        cout = out_t.shape[-1]
        qp = _per_channel(ctx, p, op, cout)
        idm = ctx.static("cmsis_nn_dims", f"{p}_in", _dims(g.tensors[op.inputs[0]].shape))
        od = ctx.static("cmsis_nn_dims", f"{p}_out", _dims(out_t.shape))
        bd = ctx.static("cmsis_nn_dims", f"{p}_bias", f"{{1, 1, 1, {cout}}}")
        bias = ctx.ptr(op.inputs[2], "int32_t") if len(op.inputs) > 2 else "0"
        geo = f"{_tile(a['strides'])}, {_tile((a['padding'][0], a['padding'][1]))}, " \
              f"{_tile(a['dilation'])}, {_act(op, qo)}"
        if op.kind == "conv2d":
            prm = ctx.static("cmsis_nn_conv_params", f"{p}_params",
                             f"{{{-qi.zero_point}, {qo.zero_point}, {geo}}}")
            fd = ctx.static("cmsis_nn_dims", f"{p}_filter", f"{{{cout}, {kh}, {kw}, {cin}}}")
            fn = "arm_convolve_wrapper_s8"
        else:
            prm = ctx.static("cmsis_nn_dw_conv_params", f"{p}_params",
                             f"{{{-qi.zero_point}, {qo.zero_point}, {a['multiplier']}, {geo}}}")
            fd = ctx.static("cmsis_nn_dims", f"{p}_filter", f"{{1, {kh}, {kw}, {cout}}}")
            fn = "arm_depthwise_conv_wrapper_s8"
        call = (f"cmsis_nn_context ctx = {ctx.scratch(i)};\n"
                f"    ARMSIM_CHECK({i}, {fn}(&ctx, {prm}, {qp}, {idm}, {src}, {fd}, "
                f"{ctx.ptr(op.inputs[1])}, {bd}, {bias}, {od}, {out}));")
        return OpCode([call], f"{fn}_get_buffer_size({prm}, {idm}, {fd}, {od})")
    if op.kind == "fully_connected":
        qi, qw = _q(g, op.inputs[0]), _q(g, op.inputs[1])
        n_in, n_out = g.tensors[op.inputs[1]].shape
        batches = n // n_out
        prm = ctx.static("cmsis_nn_fc_params", f"{p}_params",
                         f"{{{-qi.zero_point}, 0, {qo.zero_point}, {_act(op, qo)}}}")
        idm = ctx.static("cmsis_nn_dims", f"{p}_in", f"{{{batches}, 1, 1, {n_in}}}")
        fd = ctx.static("cmsis_nn_dims", f"{p}_filter", f"{{{n_in}, 1, 1, {n_out}}}")
        bd = ctx.static("cmsis_nn_dims", f"{p}_bias", f"{{1, 1, 1, {n_out}}}")
        od = ctx.static("cmsis_nn_dims", f"{p}_out", f"{{{batches}, 1, 1, {n_out}}}")
        bias = ctx.ptr(op.inputs[2], "int32_t") if len(op.inputs) > 2 else "0"
        lo, hi = Q.activation_range(op.activation, qo)
        if not ctx.cmsis_fc:  # TFLite's reference requantization (double precision)
            scales = [Q.fc_scale(qi.scale, w, qo.scale) for w in qw.scales]
            table = ctx.doubles(f"{p}_scales", scales)
            return OpCode([f"armsim_fully_connected_s8({src}, {batches}, {n_in}, "
                           f"{ctx.ptr(op.inputs[1])}, {bias}, {n_out}, {-qi.zero_point}, "
                           f"{qo.zero_point}, {table}, {int(qw.per_channel)}, {lo}, {hi}, "
                           f"{out});"])
        if qw.per_channel:
            qp = _per_channel(ctx, p, op, n_out)
            fn = "arm_fully_connected_per_channel_s8"
        else:
            m, s = Q.quantize_multiplier(qi.scale * qw.scale / qo.scale)
            qp = ctx.static("cmsis_nn_per_tensor_quant_params", f"{p}_quant", f"{{{m}, {s}}}")
            fn = "arm_fully_connected_s8"
        call = (f"cmsis_nn_context ctx = {ctx.scratch(i)};\n"
                f"    ARMSIM_CHECK({i}, {fn}(&ctx, {prm}, {qp}, {idm}, {src}, {fd}, "
                f"{ctx.ptr(op.inputs[1])}, {bd}, {bias}, {od}, {out}));")
        return OpCode([call], f"arm_fully_connected_s8_get_buffer_size({fd})")
    if op.kind in ("max_pool2d", "avg_pool2d"):
        in_shape = g.tensors[op.inputs[0]].shape
        prm = ctx.static("cmsis_nn_pool_params", f"{p}_params",
                         f"{{{_tile(a['strides'])}, {_tile(a['padding'])}, {_act(op, qo)}}}")
        idm = ctx.static("cmsis_nn_dims", f"{p}_in", _dims(in_shape))
        fd = ctx.static("cmsis_nn_dims", f"{p}_filter", f"{{1, {a['pool'][0]}, {a['pool'][1]}, 1}}")
        od = ctx.static("cmsis_nn_dims", f"{p}_out", _dims(out_t.shape))
        fn = "arm_max_pool_s8" if op.kind == "max_pool2d" else "arm_avgpool_s8"
        call = (f"cmsis_nn_context ctx = {ctx.scratch(i)};\n"
                f"    ARMSIM_CHECK({i}, {fn}(&ctx, {prm}, {idm}, {src}, {fd}, {od}, {out}));")
        _h, ow, c = dims4(out_t.shape)
        size = f"arm_avgpool_s8_get_buffer_size({ow}, {c})" if op.kind == "avg_pool2d" else None
        return OpCode([call], size)
    if op.kind == "add":
        ap = Q.add_params(_q(g, op.inputs[0]), _q(g, op.inputs[1]), qo)
        lo, hi = Q.activation_range(op.activation, qo)
        return OpCode([
            f"ARMSIM_CHECK({i}, arm_elementwise_add_s8({src}, {ctx.ptr(op.inputs[1])}, "
            f"{ap.input1_offset}, {ap.input1_multiplier}, {ap.input1_shift}, "
            f"{ap.input2_offset}, {ap.input2_multiplier}, {ap.input2_shift}, {ap.left_shift}, "
            f"{out}, {ap.output_offset}, {ap.output_multiplier}, {ap.output_shift}, "
            f"{lo}, {hi}, {n}));"])
    if op.kind == "mul":
        qa, qb = _q(g, op.inputs[0]), _q(g, op.inputs[1])
        m, s = Q.mul_params(qa, qb, qo)
        lo, hi = Q.activation_range(op.activation, qo)
        return OpCode([
            f"ARMSIM_CHECK({i}, arm_elementwise_mul_s8({src}, {ctx.ptr(op.inputs[1])}, "
            f"{-qa.zero_point}, {-qb.zero_point}, {out}, {qo.zero_point}, {m}, {s}, "
            f"{lo}, {hi}, {n}));"])
    if op.kind == "concat":
        axis = a["axis"]
        out_chunk = int(np.prod(out_t.shape[axis:], dtype=np.int64))
        calls, offset = [], 0
        for name in op.inputs:
            shape = g.tensors[name].shape
            outer = int(np.prod(shape[:axis], dtype=np.int64))
            chunk = int(np.prod(shape[axis:], dtype=np.int64))
            if max(outer, out_chunk) > 0xFFFF:
                raise ValueError(f"op {op.name}: concatenation extents over 65535")
            calls.append(f"arm_concatenation_s8_x({ctx.ptr(name)}, {chunk}, {outer}, 1, 1, "
                         f"{out}, {out_chunk}, {offset});")
            offset += chunk
        return OpCode(calls)
    if op.kind == "pad":
        t, b_, left, r = a["pads"]
        idm = ctx.static("cmsis_nn_dims", f"{p}_in", _dims(g.tensors[op.inputs[0]].shape))
        pre = ctx.static("cmsis_nn_dims", f"{p}_pre", f"{{0, {t}, {left}, 0}}")
        post = ctx.static("cmsis_nn_dims", f"{p}_post", f"{{0, {b_}, {r}, 0}}")
        return OpCode([f"ARMSIM_CHECK({i}, arm_pad_s8({src}, {out}, {qo.zero_point}, {idm}, "
                       f"{pre}, {post}));"])
    if op.kind in ("mean", "reduce_max"):
        if op.kind == "reduce_max":
            return OpCode([f"armsim_reduce_max_s8({src}, {a['outer']}, {a['span']}, "
                           f"{a['inner']}, {out});"])
        qi = _q(g, op.inputs[0])
        m, s = Q.mean_params(qi, qo, a["span"])
        return OpCode([f"armsim_mean_s8({src}, {a['outer']}, {a['span']}, {a['inner']}, "
                       f"{qi.zero_point}, {qo.zero_point}, {m}, {s}, {out});"])
    if op.kind == "activation":
        return OpCode(_activation(ctx, p, op, src, out, n))
    if op.kind == "reshape":
        return OpCode([])
    raise ValueError(f"no int8 kernel for op kind {op.kind}")


def _activation(ctx: _Ctx, p: str, op: Op, src: str, out: str, n: int) -> list[str]:
    g = ctx.g
    qi, qo = _q(g, op.inputs[0]), _q(g, op.outputs[0])
    kind = op.activation.kind
    if kind == "softmax":
        last = g.tensors[op.outputs[0]].shape[-1]
        m, s, diff_min = Q.softmax_params(op.attrs.get("beta", 1.0), qi.scale)
        return [f"arm_softmax_s8({src}, {n // last}, {last}, {m}, {s}, {diff_min}, {out});"]
    if kind in ("tanh", "sigmoid"):
        table = ctx.array("int8_t", f"{p}_table", [int(v) for v in Q.lookup_table(kind, qi, qo)])
        return [f"armsim_lut_s8({src}, {n}, {table}, {out});"]
    if kind == "leaky_relu":
        im, ish, am, ash = Q.leaky_relu_params(op.activation.alpha, qi.scale, qo.scale)
        return [f"armsim_leaky_relu_s8({src}, {n}, {qi.zero_point}, {qo.zero_point}, {im}, "
                f"{ish}, {am}, {ash}, {out});"]
    if op.activation.clamp is not None:  # RELU, RELU6, an int8 QUANTIZE (linear)
        m, s = Q.quantize_multiplier(qi.scale / qo.scale)
        lo, hi = Q.activation_range(op.activation, qo)
        return [f"armsim_requantize_s8({src}, {n}, {qi.zero_point}, {qo.zero_point}, {m}, {s}, "
                f"{lo}, {hi}, {out});"]
    raise ValueError(f"no int8 kernel for activation {kind}")


_PRELUDE = [
    "#include <stddef.h>", "#include <stdint.h>", '#include "arm_nnfunctions.h"',
    '#include "armsim_nn_s8.h"',
    "#define UNUSED __attribute__((unused))",
]


def network_c(g: Graph, plan: Plan, cmsis_fc: bool = False) -> str:
    """``network.c`` of an int8 graph: one noinline function per op, then the finish.

    Dense layers run armsim's kernel with TFLite's reference requantization, unless
    ``cmsis_fc`` asks for CMSIS-NN's (TFLM's integer multiplier)."""
    ctx = _Ctx(g, plan, cmsis_fc)
    ops = []
    for i, op in enumerate(g.ops):
        code = op_code(ctx, i, op)
        if code.calls:
            ops.append((f"op {i}: {op.name} ({op.kind}, TFLite {op.layer}): "
                        f"{', '.join(op.inputs[:1])} -> {op.outputs[0]}", op_symbol(i, op),
                        code.calls))
    out = g.outputs[0]
    finish = [f"const int8_t *y = {ctx.ptr(out)};", "int32_t best = 0;",
              f"for (int32_t k = 1; k < {g.tensors[out].size}; k++) {{",
              "    if (y[k] > y[best]) best = k;", "}",
              "armsim_predicted = best;"] if g.is_classifier() else []
    return program(f"model '{g.name}' (int8, plan: {plan.preset})", [
        *_PRELUDE, '#include "armsim_plan.h"', "",
        "/** Predicted class (argmax of the int8 output) for classifiers, else -1. */",
        "int32_t armsim_predicted = -1;",
        "/** The first CMSIS-NN call that did not return ARM_CMSIS_NN_SUCCESS: op and status. */",
        f"int32_t {FAILED_OP} = -1;", f"int32_t {STATUS} = 0;",
        "#define ARMSIM_CHECK(op, call) do { arm_cmsis_nn_status s_ = (call); "
        f"if (s_ != ARM_CMSIS_NN_SUCCESS && {FAILED_OP} < 0) {{ {FAILED_OP} = (op); "
        f"{STATUS} = (int32_t)s_; }} }} while (0)"], ctx.lines, ops, finish)


def scratch_ops(g: Graph) -> list[int]:
    """Indices of the ops whose kernels may take scratch."""
    return [i for i, op in enumerate(g.ops) if op.kind in SCRATCH_KINDS]


def scratch_c(g: Graph) -> str:
    """``scratch.c``: stores each scratch-taking op's ``*_get_buffer_size`` in an array."""
    ctx = _Ctx(g, None)
    body = []
    ops = scratch_ops(g)
    for k, i in enumerate(ops):
        code = op_code(ctx, i, g.ops[i])
        body.append(f"    {SIZES}[{k}] = {code.scratch_size or '0'};")
    return "\n".join([
        f"/* Generated by armsim: scratch sizes of model '{g.name}' -- do not edit. */",
        *_PRELUDE, "#define ARMSIM_CHECK(op, call) (void)(call)", "",
        f"volatile int32_t {SIZES}[{max(len(ops), 1)}];", "", *ctx.lines, "",
        "int main(void)", "{", *body, "    return 0;", "}", ""])
