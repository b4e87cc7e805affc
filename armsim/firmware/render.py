"""Render the firmware sources of a plan: ``network.c`` (one function per op, each a kernel
call), ``armsim_plan.h`` (every buffer's address and order), ``weights.c`` (weights placed
in flash) and ``memory.ld`` (the linker MEMORY block and a symbol per buffer)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from armsim.graph import Graph, Op, dims4
from armsim.parts.mcus import Mcu
from armsim.plan import Plan
from armsim.plan.planner import c_name

#: The function the firmware calls once the ops have run (argmax for classifiers).
FINISH = "armsim_finish"
NETWORK = "armsim_network_run"
#: C element type of each buffer dtype.
C_TYPES = {"float32": "float", "int8": "int8_t", "int32": "int32_t"}


def op_symbol(index: int, op: Op) -> str:
    """The C function running op ``index`` (what profiles and per-op reads stop at)."""
    return f"armsim_op{index}_{c_name(op.name)}"[:60]


def f32(v: float) -> str:
    """An exact C float literal (hex float), infinities through math.h."""
    v = float(np.float32(v))
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    if v == 0:
        return "-0.0f" if math.copysign(1, v) < 0 else "0.0f"
    return v.hex() + "f"


@dataclass
class _Ctx:
    g: Graph
    plan: Plan
    lines: list[str]

    def ptr(self, tensor: str, const: bool = True) -> str:
        b = self.plan.for_tensor(tensor)
        q = "const float *" if const else "float *"
        if b.region == "flash":
            return b.symbol
        return f"(({q}){b.symbol.upper()}_ADDR)"

    def static(self, ctype: str, name: str, init: str) -> str:
        self.lines.append(f"static const {ctype} {name} = {init};")
        return f"&{name}"


def _dims(shape: tuple[int, ...]) -> str:
    h, w, c = dims4(shape)
    return f"{{1, {h}, {w}, {c}}}"


def _clamp(op: Op) -> str:
    c = op.activation.clamp or (-math.inf, math.inf)
    return f"{{{f32(c[0])}, {f32(c[1])}}}"


def _tile(t: tuple[int, int]) -> str:
    return f"{{{t[0]}, {t[1]}}}"


def _view(ctx: _Ctx, tensor: str, filter_: bool = False) -> str:
    """An armsim_view initializer from the tensor's buffer strides."""
    b = ctx.plan.for_tensor(tensor)
    t = ctx.g.tensors[tensor]
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


def _post_activation(ctx: _Ctx, op: Op, out: str, n: int) -> list[str]:
    a = op.activation
    if a.clamp is not None:
        return []
    if a.kind == "leaky_relu":
        return [f"armsim_leaky_relu_f32({out}, {n}, {f32(a.alpha)}, {out});"]
    if a.kind == "softmax":
        last = ctx.g.tensors[op.outputs[0]].shape[-1]
        return [f"armsim_softmax_f32({out}, {n // last}, {last}, {out});"]
    return [f"armsim_{a.kind}_f32({out}, {n}, {out});"]


def _op_body(ctx: _Ctx, i: int, op: Op) -> list[str]:
    g = ctx.g
    out_t = g.tensors[op.outputs[0]]
    out = ctx.ptr(op.outputs[0], const=False)
    n = out_t.size
    a = op.attrs
    p = f"op{i}"
    calls: list[str] = []
    bias = ctx.ptr(op.inputs[2]) if len(op.inputs) > 2 else "0"
    if op.kind == "conv2d":
        prm = ctx.static("armsim_conv_params", f"{p}_params",
                         f"{{{_tile(a['strides'])}, {_tile(a['padding'])}, "
                         f"{_tile(a['dilation'])}, {_clamp(op)}}}")
        iv = ctx.static("armsim_view", f"{p}_input", _view(ctx, op.inputs[0]))
        fv = ctx.static("armsim_view", f"{p}_filter", _view(ctx, op.inputs[1], filter_=True))
        od = ctx.static("armsim_dims", f"{p}_out", _dims(out_t.shape))
        calls.append(f"armsim_conv2d_f32({prm}, {iv}, {ctx.ptr(op.inputs[0])}, {fv}, "
                     f"{ctx.ptr(op.inputs[1])}, {bias}, {od}, {out});")
    elif op.kind == "depthwise_conv2d":
        kh, kw, c, m = a["kernel"]
        prm = ctx.static("armsim_dw_conv_params", f"{p}_params",
                         f"{{{_tile(a['strides'])}, {_tile(a['padding'])}, "
                         f"{_tile(a['dilation'])}, {a['multiplier']}, {_clamp(op)}}}")
        idm = ctx.static("armsim_dims", f"{p}_in", _dims(g.tensors[op.inputs[0]].shape))
        fd = ctx.static("armsim_dims", f"{p}_filter", f"{{1, {kh}, {kw}, {c * m}}}")
        od = ctx.static("armsim_dims", f"{p}_out", _dims(out_t.shape))
        calls.append(f"armsim_depthwise_conv2d_f32({prm}, {idm}, {ctx.ptr(op.inputs[0])}, {fd}, "
                     f"{ctx.ptr(op.inputs[1])}, {bias}, {od}, {out});")
    elif op.kind == "fully_connected":
        n_in, n_out = g.tensors[op.inputs[1]].shape
        cl = ctx.static("armsim_clamp", f"{p}_clamp", _clamp(op))
        calls.append(f"armsim_fully_connected_f32({cl}, {ctx.ptr(op.inputs[0])}, {n // n_out}, "
                     f"{n_in}, {ctx.ptr(op.inputs[1])}, {bias}, {n_out}, {out});")
    elif op.kind in ("max_pool2d", "avg_pool2d"):
        prm = ctx.static("armsim_pool_params", f"{p}_params",
                         f"{{{_tile(a['pool'])}, {_tile(a['strides'])}, {_tile(a['padding'])}, "
                         f"{_clamp(op)}}}")
        idm = ctx.static("armsim_dims", f"{p}_in", _dims(g.tensors[op.inputs[0]].shape))
        od = ctx.static("armsim_dims", f"{p}_out", _dims(out_t.shape))
        calls.append(f"armsim_{op.kind}_f32({prm}, {idm}, {ctx.ptr(op.inputs[0])}, {od}, {out});")
    elif op.kind == "add":
        last = ctx.static("armsim_clamp", f"{p}_clamp", _clamp(op))
        none = ctx.static("armsim_clamp", f"{p}_none", "{-INFINITY, INFINITY}") \
            if len(op.inputs) > 2 else last
        src = ctx.ptr(op.inputs[0])
        for k, other in enumerate(op.inputs[1:]):
            cl = last if k == len(op.inputs) - 2 else none
            calls.append(f"armsim_add_f32({cl}, {src}, {ctx.ptr(other)}, {n}, {out});")
            src = out
    elif op.kind == "concat":
        axis = a["axis"]
        out_stride = int(np.prod(out_t.shape[axis:], dtype=np.int64))
        offset = 0
        for name in op.inputs:
            shape = g.tensors[name].shape
            outer = int(np.prod(shape[:axis], dtype=np.int64))
            chunk = int(np.prod(shape[axis:], dtype=np.int64))
            calls.append(f"armsim_concat_f32({ctx.ptr(name)}, {outer}, {chunk}, {out_stride}, "
                         f"{out} + {offset});")
            offset += chunk
    elif op.kind == "pad":
        t, _b, left, _r = a["pads"]
        idm = ctx.static("armsim_dims", f"{p}_in", _dims(g.tensors[op.inputs[0]].shape))
        od = ctx.static("armsim_dims", f"{p}_out", _dims(out_t.shape))
        calls.append(f"armsim_pad_f32({idm}, {ctx.ptr(op.inputs[0])}, {t}, {left}, {od}, {out});")
    elif op.kind == "scale_shift":
        cl = ctx.static("armsim_clamp", f"{p}_clamp", _clamp(op))
        calls.append(f"armsim_scale_shift_f32({cl}, {ctx.ptr(op.inputs[0])}, {n}, "
                     f"{out_t.shape[-1]}, {ctx.ptr(op.inputs[1])}, {ctx.ptr(op.inputs[2])}, {out});")
    elif op.kind == "activation":
        src = ctx.ptr(op.inputs[0])
        if op.activation.clamp is not None:
            cl = ctx.static("armsim_clamp", f"{p}_clamp", _clamp(op))
            calls.append(f"armsim_clamp_f32({cl}, {src}, {n}, {out});")
        else:
            calls.append(f"armsim_clamp_f32({ctx.static('armsim_clamp', f'{p}_copy', '{-INFINITY, INFINITY}')}, "
                         f"{src}, {n}, {out});")
    elif op.kind == "reshape":
        return []
    else:
        raise ValueError(f"no kernel for op kind {op.kind}")
    return calls + _post_activation(ctx, op, out, n)


def program(title: str, prelude: list[str], statics: list[str],
            ops: list[tuple[str, str, list[str]]], finish: list[str]) -> str:
    """A ``network.c``: its prelude and static parameters, one noinline function per op
    (comment, symbol, body lines), the finish (``finish`` lines before its barrier), the run
    that calls them in order, and main."""
    funcs: list[str] = []
    for comment, sym, body in ops:
        funcs += [f"/** {comment} */", f"__attribute__((noinline)) void {sym}(void)", "{",
                  *[f"    {c}" for c in body], "}", ""]
    return "\n".join([
        f"/* Generated by armsim from {title} -- do not edit. */", *prelude, "",
        *statics, "", *funcs,
        "/** After the last op: the predicted class (classifiers), read by the emulator. */",
        f"__attribute__((noinline)) void {FINISH}(void)", "{", *[f"    {c}" for c in finish],
        '    __asm volatile("" ::: "memory");', "}", "",
        f"void {NETWORK}(void)", "{", *[f"    {sym}();" for _c, sym, _b in ops],
        f"    {FINISH}();", "}", "",
        "/** One inference. Weak: a harness linked beside it (a benchmark loop) replaces it. */",
        "__attribute__((weak)) int main(void)", "{", f"    {NETWORK}();", "    return 0;", "}",
        ""])


def network_c(g: Graph, plan: Plan) -> str:
    """``network.c``: one noinline function per op, then the run and the finish."""
    ctx = _Ctx(g, plan, [])
    ops = []
    for i, op in enumerate(g.ops):
        body = _op_body(ctx, i, op)
        if body:
            ops.append((f"op {i}: {op.name} ({op.kind}, layer '{op.layer}'"
                        + (f", fused {', '.join(op.fused)}" if op.fused else "")
                        + f"): {', '.join(op.inputs[:1])} -> {op.outputs[0]}",
                        op_symbol(i, op), body))
    out = g.outputs[0]
    finish = [f"armsim_predicted = armsim_argmax_f32({ctx.ptr(out)}, {g.tensors[out].size});"] \
        if g.is_classifier() else []
    return program(f"model '{g.name}' (plan: {plan.preset})", [
        "#include <math.h>", "#include <stdint.h>", '#include "armsim_nn.h"',
        '#include "armsim_plan.h"', "",
        "/** Predicted class (argmax of the output) for classifiers, else -1. */",
        "int32_t armsim_predicted = -1;"], ctx.lines, ops, finish)


def plan_header(g: Graph, plan: Plan) -> str:
    """``armsim_plan.h``: every buffer's address (or symbol), size, shape and order."""
    lines = [f"/* Generated by armsim from model '{g.name}' (plan: {plan.preset}) -- do not edit. */",
             "#ifndef ARMSIM_PLAN_H", "#define ARMSIM_PLAN_H", "", "#include <stdint.h>", ""]
    for b in plan.buffers:
        macro = b.symbol.upper()
        lines.append(f"/** {b.name}: {b.description}; shape {list(b.shape)}; {b.order} */")
        if b.region == "flash":
            lines.append(f"extern const {C_TYPES[b.dtype]} {b.symbol}[{b.count}];")
        else:
            lines += [f"#define {macro}_ADDR 0x{b.address:08X}u",
                      f"#define {macro}_COUNT {b.count}"]
        lines.append("")
    lines += [f"#define ARMSIM_ARENA_ADDR 0x{plan.arena[0]:08X}u",
              f"#define ARMSIM_ARENA_BYTES {plan.arena[1]}",
              f"#define ARMSIM_PLAN_END 0x{plan.reserved_end:08X}u", "",
              "#endif /* ARMSIM_PLAN_H */", ""]
    return "\n".join(lines)


def weights_c(g: Graph, plan: Plan) -> str:
    """``weights.c``: the flash-resident weights as const arrays (exact hex floats)."""
    out = [f"/* Generated by armsim from model '{g.name}' -- do not edit. */",
           "#include <math.h>", "#include <stdint.h>", '#include "armsim_plan.h"', ""]
    for b in plan.buffers:
        if b.region != "flash":
            continue
        t = g.tensors[b.tensor]
        assert t.data is not None
        vals = b.pack(t.data)
        out.append(f"/** {b.name}: {b.order} */")
        out.append(f"const {C_TYPES[b.dtype]} {b.symbol}[{b.count}] __attribute__((aligned(8)))"
                   " = {")
        text = f32 if b.dtype == "float32" else (lambda v: str(int(v)))
        per = 8 if b.dtype == "float32" else 16
        for k in range(0, vals.size, per):
            out.append("    " + ", ".join(text(v) for v in vals[k:k + per]) + ",")
        out += ["};", ""]
    return "\n".join(out)


def memory_ld(plan: Plan | None, mcu: Mcu) -> str:
    """``memory.ld``: FLASH, the plan's SRAM reservation, the RAM above it, buffer symbols
    (no plan: an empty reservation, for helper programs)."""
    base = plan.base if plan is not None else mcu.sram_base
    ram_start = plan.reserved_end if plan is not None else mcu.sram_base + 64
    ram_len = mcu.sram_base + mcu.sram_size - ram_start
    lines = [f"/* Generated by armsim for MCU preset '{mcu.name}' -- do not edit. */",
             "MEMORY", "{",
             f"  FLASH (rx)  : ORIGIN = 0x{mcu.flash_base:08X}, LENGTH = 0x{mcu.flash_size:X}",
             f"  PLAN (rw)   : ORIGIN = 0x{base:08X}, LENGTH = 0x{ram_start - base:X}",
             f"  RAM (rwx)   : ORIGIN = 0x{ram_start:08X}, LENGTH = 0x{ram_len:X}",
             "}", f"_estack = 0x{mcu.stack_top:08X};"]
    if plan is not None:
        lines += [f"PROVIDE({b.symbol} = 0x{b.address:08X});" for b in plan.buffers
                  if b.region != "flash"]
    return "\n".join(lines) + "\n"
