"""What an op's C rendering is given: a context that names each tensor's memory and collects
the ``static const`` parameter structs (:class:`FloatContext` for armsim's float32 kernels,
:class:`Int8Context` for CMSIS-NN's s8 kernels), and the initializers both use.

The firmware renderers (:mod:`armsim.firmware.render`, :mod:`armsim.firmware.render_s8`)
make the context and put the collected lines before the op functions; an op kind's
``render_f32`` / ``render_s8`` returns its statements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from armsim import quant as Q
from armsim.errors import ModelError
from armsim.graph import Graph, Op, dims4
from armsim.quant import Quant

if TYPE_CHECKING:
    from armsim.plan.buffers import Plan


#: The C element type of each tensor dtype.
C_TYPES = {"float32": "float", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
           "int64": "int64_t"}


def f32(v: float) -> str:
    """An exact C float literal (hex float), infinities through math.h."""
    v = float(np.float32(v))
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    if v == 0:
        return "-0.0f" if math.copysign(1, v) < 0 else "0.0f"
    return v.hex() + "f"


def dims(shape: tuple[int, ...]) -> str:
    """An ``{n, h, w, c}`` dims initializer of an activation's shape (batch 1)."""
    h, w, c = dims4(shape)
    return f"{{1, {h}, {w}, {c}}}"


@dataclass
class FloatContext:
    """The float32 renderer's context: the graph, the plan, and the static lines so far."""

    g: Graph
    plan: Plan
    lines: list[str] = field(default_factory=list)

    def ptr(self, tensor: str, const: bool = True) -> str:
        """A C expression for ``tensor``'s memory: the plan's address, or a flash symbol."""
        b = self.plan.for_tensor(tensor)
        q = "const float *" if const else "float *"
        if b.region == "flash":
            return b.symbol
        return f"(({q}){b.symbol.upper()}_ADDR)"

    def static(self, ctype: str, name: str, init: str) -> str:
        """Declare ``static const ctype name = init;`` and return ``&name``."""
        self.lines.append(f"static const {ctype} {name} = {init};")
        return f"&{name}"

    def clamp(self, op: Op) -> str:
        """The ``{min, max}`` initializer of ``op``'s fused clamp (none: +-infinity)."""
        c = op.activation.clamp or (-math.inf, math.inf)
        return f"{{{f32(c[0])}, {f32(c[1])}}}"

    @staticmethod
    def tile(t: tuple[int, int]) -> str:
        """An ``{h, w}`` pair initializer."""
        return f"{{{t[0]}, {t[1]}}}"

    def view(self, tensor: str, filter_: bool = False) -> str:
        """An ``armsim_view`` initializer (dims and strides) from the tensor's buffer."""
        b = self.plan.for_tensor(tensor)
        t = self.g.tensors[tensor]
        st = b.strides() if b.tensor == tensor else tuple(
            int(np.prod(t.shape[i + 1:], dtype=np.int64)) for i in range(len(t.shape)))
        if filter_:  # (KH, KW, I, O) -> {O, KH, KW, I}
            kh, kw, ci, co = t.shape
            return f"{{{{{co}, {kh}, {kw}, {ci}}}, {{{st[3]}, {st[0]}, {st[1]}, {st[2]}}}}}"
        h, w, c = dims4(t.shape)
        if len(t.shape) == 3:
            s = (st[0], st[1], st[2])
        elif len(t.shape) == 2:
            s = (w * st[0], st[0], st[1])
        else:
            s = (c, c, st[0])
        return f"{{{{1, {h}, {w}, {c}}}, {{{h * s[0]}, {s[0]}, {s[1]}, {s[2]}}}}}"


def fold_f32(ctx: FloatContext, i: int, op: Op, function: str) -> list[str]:
    """Calls of a two-operand element-wise float kernel ``function(clamp, a, b, n, out)``
    folding op ``i``'s inputs left to right into its output, the op's clamp on the last."""
    n = ctx.g.tensors[op.outputs[0]].size
    out = ctx.ptr(op.outputs[0], const=False)
    last = ctx.static("armsim_clamp", f"op{i}_clamp", ctx.clamp(op))
    none = ctx.static("armsim_clamp", f"op{i}_none", "{-INFINITY, INFINITY}") \
        if len(op.inputs) > 2 else last
    src, calls = ctx.ptr(op.inputs[0]), []
    for k, other in enumerate(op.inputs[1:]):
        cl = last if k == len(op.inputs) - 2 else none
        calls.append(f"{function}({cl}, {src}, {ctx.ptr(other)}, {n}, {out});")
        src = out
    return calls


def _ints(values: list[int]) -> str:
    return ", ".join(str(int(v)) for v in values)


@dataclass
class Int8Context:
    """The int8 renderer's context: graph, plan (None for the scratch-size program, which
    passes no data), whether dense layers use CMSIS-NN's kernels, and the static lines."""

    g: Graph
    plan: Plan | None
    cmsis_fc: bool = False
    lines: list[str] = field(default_factory=list)

    def quant(self, tensor: str) -> Quant:
        """A tensor's quantization (a ModelError when the file gave it none)."""
        q = self.g.tensors[tensor].quant
        if q is None:
            raise ModelError(f"tensor {tensor} has no quantization")
        return q

    def doubles(self, name: str, values: list[float]) -> str:
        """A static const double array with exact (hex) literals."""
        body = ",\n    ".join(float(v).hex() for v in values)
        self.lines.append(f"static const double {name}[{len(values)}] UNUSED = {{\n    {body}\n}};")
        return name

    def static(self, ctype: str, name: str, init: str) -> str:
        """Declare ``static const ctype name = init;`` and return ``&name``."""
        self.lines.append(f"static const {ctype} {name} UNUSED = {init};")
        return f"&{name}"

    def array(self, ctype: str, name: str, values: list[int]) -> str:
        """A static const integer array; its name."""
        rows = [values[k:k + 16] for k in range(0, len(values), 16)] or [[]]
        body = ",\n    ".join(_ints(r) for r in rows)
        self.lines.append(f"static const {ctype} {name}[{len(values)}] UNUSED = {{\n    {body}\n}};")
        return name

    def ptr(self, tensor: str, ctype: str | None = None, const: bool = True) -> str:
        """A C expression for ``tensor``'s memory ("0" in the scratch-size program), of
        ``ctype`` (default: the tensor's own element type)."""
        if self.plan is None:
            return "0"
        ctype = ctype or C_TYPES[self.g.tensors[tensor].dtype]
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

    @staticmethod
    def tile(t: tuple[int, int]) -> str:
        """A ``cmsis_nn_tile`` initializer: ``{w, h}`` of an (h, w) pair."""
        return f"{{{t[1]}, {t[0]}}}"

    def act(self, op: Op) -> str:
        """The ``{min, max}`` clamp of ``op``'s fused activation on its (int8 or int16)
        output."""
        lo, hi = self.range(op)
        return f"{{{lo}, {hi}}}"

    def range(self, op: Op) -> tuple[int, int]:
        """(min, max) of ``op``'s fused activation on its output, in the output's type."""
        out = self.g.tensors[op.outputs[0]]
        return Q.activation_range(op.activation, self.quant(op.outputs[0]), out.dtype)

    def s16(self, op: Op) -> bool:
        """Whether ``op`` reads int16 activations (a 16x8 model: CMSIS-NN's s16 kernels)."""
        return self.g.tensors[op.inputs[0]].dtype == "int16"

    def per_channel(self, p: str, op: Op, n_out: int) -> str:
        """Static multiplier/shift arrays for every output channel of a conv/depthwise/dense
        op and its quant-params struct."""
        qi, qw, qo = self.quant(op.inputs[0]), self.quant(op.inputs[1]), self.quant(op.outputs[0])
        scales = qw.scales if qw.per_channel else qw.scales * n_out
        mult, shift = Q.channel_multipliers(qi.scale, scales, qo.scale)
        self.array("int32_t", f"{p}_mult", mult)
        self.array("int32_t", f"{p}_shift", shift)
        return self.static("cmsis_nn_per_channel_quant_params", f"{p}_quant",
                           f"{{(int32_t *){p}_mult, (int32_t *){p}_shift}}")


def sub_params_s8(ctx: "Int8Context", i: int, p: Q.AddParams, lo: int, hi: int) -> str:
    """``&op{i}_params``: the ``armsim_sub_s8_params`` of op ``i`` (SUB and
    SQUARED_DIFFERENCE: the rescaled difference, then ``p``'s output rescale and [lo, hi])."""
    return ctx.static("armsim_sub_s8_params", f"op{i}_params",
                      f"{{{p.input1_offset}, {p.input1_multiplier}, {p.input1_shift}, "
                      f"{p.input2_offset}, {p.input2_multiplier}, {p.input2_shift}, "
                      f"{p.left_shift}, {p.output_offset}, {p.output_multiplier}, "
                      f"{p.output_shift}, {lo}, {hi}}}")


def minmax_s8(ctx: "Int8Context", i: int, op: Op, function: str) -> list[str]:
    """CMSIS-NN's ``arm_maximum_s8``/``arm_minimum_s8`` (``function``) of an int8 op's two
    inputs, one quantization throughout (TFLite's MAXIMUM/MINIMUM), operands of the
    output's shape (a broadcast op spelled them out)."""
    n = ctx.g.tensors[op.outputs[0]].size
    dims = ctx.static("cmsis_nn_dims", f"op{i}_dims", f"{{1, 1, 1, {n}}}")
    return [f"ARMSIM_CHECK({i}, {function}(&(cmsis_nn_context){{0, 0}}, "
            f"{ctx.ptr(op.inputs[0])}, {dims}, {ctx.ptr(op.inputs[1])}, {dims}, "
            f"{ctx.ptr(op.outputs[0], const=False)}, {dims}));"]
