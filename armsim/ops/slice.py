"""``slice``: a strided window of a tensor (TFLite SLICE and STRIDED_SLICE with constant
bounds, begin/end/shrink masks; SPLIT, SPLIT_V and UNPACK as one slice per output;
REVERSE_V2, a step of -1),
float32 and int8 alike (a copy: the int8 values keep their quantization). A walk of the
gather kernel: each output axis steps along its input axis from its start.

Attributes of an op: ``begin``, ``step`` (per input axis, batch excluded), ``keep`` (the
input axes the output has, in order; a shrunk axis is read at ``begin`` only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops import _copy
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context


def _const(b: Any, i: int, idx: int, what: str) -> list[int]:
    v = b.fold(idx) if hasattr(b, "fold") else b.r.data(idx)
    if v is None:
        raise ModelError(f"{b.where(i)}: its {what} are computed at run time; armsim slices "
                         "with constant bounds")
    return [int(d) for d in np.asarray(v).reshape(-1)]


def _op(b: Any, i: int, x: str, y: str, starts: list[int], steps: list[int],
        keep: list[int], tag: str = "", copy_bytes: bool = False) -> Op:
    """A slice op of graph tensors ``x`` -> ``y``; ``starts``/``steps``/``keep`` over the
    file's axes (batch first), which must keep the batch axis whole. ``copy_bytes``: the
    int8 values are copied whatever the two quantizations, as TFLite's kernel does
    (REVERSE_V2's memcpy; the converter sometimes gives its output another scale)."""
    if not keep or keep[0] != 0 or starts[0] != 0:
        raise ModelError(f"{b.where(i)}: slices the batch axis; armsim runs batch 1")
    if b.tensors[x].quant is not None and not copy_bytes:
        T.same_quant(b, i, x, y)  # a copy: TFLite's int8 kernel keeps the scale
    return Op(f"slice_{i}{tag}", "slice", (x,), (y,),
              {"begin": tuple(starts[1:]), "step": tuple(steps[1:]),
               "keep": tuple(k - 1 for k in keep[1:])}, b.r.op_name(i))


def _check(b: Any, i: int, y: str, lengths: list[int]) -> None:
    if tuple(lengths) != b.tensors[y].shape:
        raise ModelError(f"{b.where(i)}: computed output shape {lengths} but the file says "
                         f"{list(b.tensors[y].shape)}")


def _slice(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    x, y = b.activation(i, ins[0]), b.activation(i, outs[0])
    shape = (1, *b.tensors[x].shape)
    begin, size = _const(b, i, ins[1], "begin"), _const(b, i, ins[2], "sizes")
    size = [n - s if z == -1 else z for s, z, n in zip(begin, size, shape)]
    _check(b, i, y, size[1:])
    return _op(b, i, x, y, begin, [1] * len(shape), list(range(len(shape))))


def _strided_slice(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    x, y = b.activation(i, ins[0]), b.activation(i, outs[0])
    shape = (1, *b.tensors[x].shape)
    o = b.r.options(i, "StridedSliceOptions")
    if o is not None and (o.EllipsisMask() or o.NewAxisMask()):
        raise ModelError(f"{b.where(i)}: ellipsis or new-axis masks are not supported")
    if o is not None and getattr(o, "Offset", lambda: False)():
        raise ModelError(f"{b.where(i)}: offset mode is not supported")
    begin = _const(b, i, ins[1], "begin indices")
    end = _const(b, i, ins[2], "end indices")
    strides = _const(b, i, ins[3], "strides") if len(ins) > 3 else [1] * len(begin)
    bm, em, sm = (o.BeginMask(), o.EndMask(), o.ShrinkAxisMask()) if o is not None \
        else (0, 0, 0)
    starts, steps, keep, lengths = [], [], [], []
    for d, n in enumerate(shape):
        if d >= len(begin):
            starts.append(0)
            steps.append(1)
            keep.append(d)
            lengths.append(n)
            continue
        if sm >> d & 1:
            k = begin[d] + n if begin[d] < 0 else begin[d]
            if not 0 <= k < n:
                raise ModelError(f"{b.where(i)}: index {begin[d]} out of range on axis {d}")
            starts.append(k)
            steps.append(1)
            continue
        sl = slice(None if bm >> d & 1 else begin[d], None if em >> d & 1 else end[d],
                   strides[d])
        s0, _s1, st = sl.indices(n)
        count = len(range(*sl.indices(n)))
        starts.append(s0)
        steps.append(st)
        keep.append(d)
        lengths.append(count)
    _check(b, i, y, lengths[1:])
    return _op(b, i, x, y, starts, steps, keep)


def _source(b: Any, i: int, idx: int) -> tuple[str, tuple[int, ...]]:
    """(graph tensor, file axis -> axis of (1, *its shape)) of an operand, a batch-not-first
    view included (Builder.views)."""
    view = b.view(idx) if hasattr(b, "view") else None
    if view is not None:
        return view
    x = b.activation(i, idx)
    return x, tuple(range(len(b.tensors[x].shape) + 1))


def _reverse(b: Any, i: int, ins: list[int], outs: list[int]) -> Any:
    """REVERSE_V2: the axes given walked from their end (a step of -1); on a time-major view,
    its graph tensor reversed and the output a view of that."""
    x, perm = _source(b, i, ins[0])
    shape = (1, *b.tensors[x].shape)
    axes = {perm[a % len(shape)] for a in _const(b, i, ins[1], "axes")}
    if perm != tuple(range(len(shape))):
        y = b.derived(f"{b.name(outs[0])}/reversed", x, b.tensors[x].shape, outs[0])
        b.views[outs[0]] = (y, perm)
    else:
        y = b.activation(i, outs[0])
    starts = [n - 1 if d in axes else 0 for d, n in enumerate(shape)]
    steps = [-1 if d in axes else 1 for d in range(len(shape))]
    return _op(b, i, x, y, starts, steps, list(range(len(shape))), copy_bytes=True)


def _split(b: Any, i: int, ins: list[int], outs: list[int]) -> list[Op]:
    """SPLIT (axis, input), SPLIT_V (input, sizes, axis), UNPACK (input; axis in options):
    one slice per output."""
    name = b.r.op_name(i)
    if name == "SPLIT":
        axis_idx, xi = ins[0], ins[1]
    elif name == "SPLIT_V":
        xi, axis_idx = ins[0], ins[2]
    else:
        xi, axis_idx = ins[0], None
    x, perm = _source(b, i, xi)
    shape = (1, *b.tensors[x].shape)
    if axis_idx is None:
        o = b.r.options(i, "UnpackOptions")
        axis = o.Axis() if o is not None else 0
    else:
        axis = _const(b, i, axis_idx, "axis")[0]
    axis = perm[axis % len(shape)]  # on a time-major view: the graph tensor's axis
    ops, at = [], 0
    for k, out in enumerate(outs):
        y = b.activation(i, out)
        n = 1 if name == "UNPACK" else (1, *b.tensors[y].shape)[axis]
        starts = [at if d == axis else 0 for d in range(len(shape))]
        keep = [d for d in range(len(shape)) if not (name == "UNPACK" and d == axis)]
        ops.append(_op(b, i, x, y, starts, [1] * len(shape), keep, f"_{k}"))
        at += n
    if at != shape[axis]:
        raise ModelError(f"{b.where(i)}: the outputs cover {at} of axis {axis}'s "
                         f"{shape[axis]}")
    return ops


class Slice(OpKind):
    name = "slice"
    summary = "a strided window of a tensor [begin, step]"
    tflite = {"SLICE": _slice, "STRIDED_SLICE": _strided_slice, "SPLIT": _split,
              "SPLIT_V": _split, "UNPACK": _split, "REVERSE_V2": _reverse}
    tflite_int16 = frozenset(tflite)

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        x = value(op.inputs[0]).reshape(g.tensors[op.inputs[0]].shape)
        keep = op.attrs["keep"]
        # each kept axis from its start by its step (to the end: trimmed to the output's
        # length below), each shrunk axis at its start
        index = tuple(slice(s0, None, st) if d in keep else s0
                      for d, (s0, st) in enumerate(zip(op.attrs["begin"], op.attrs["step"])))
        shape = g.tensors[op.outputs[0]].shape
        out = x[index][tuple(slice(0, n) for n in shape)]
        return np.asarray(out, np.float64).reshape(shape)

    def _parts(self, g: Graph, op: Op) -> list[list[_copy.Part]]:
        shape = g.tensors[op.outputs[0]].shape
        return [[_copy.Part(n, q, op.attrs["step"][q])]
                for n, q in zip(shape, op.attrs["keep"])]

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return _copy.render(ctx, i, op, op.inputs[0], op.outputs[0], self._parts(ctx.g, op),
                            list(op.attrs["begin"]))

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        return OpCode(self.render_f32(ctx, i, op))  # type: ignore[arg-type]


KIND = Slice()
