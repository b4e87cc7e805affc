"""What the data-movement op kinds share (``broadcast``, ``slice``, ``transpose``, ``tile``,
``gather``): the walk of C's ``armsim_gather`` (kernels/include/armsim_nn_copy.h) over an
output, computed from each output axis's source in the input, in memory order on both sides
so the plan's layouts are honoured; one call for float32 and int8 graphs alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from armsim.errors import LayoutError, ModelError
from armsim.graph import Op, Tensor

#: C's ARMSIM_GATHER_AXES
AXES = 6


@dataclass(frozen=True)
class Part:
    """One walk component of an output axis: ``size`` steps, each moving ``step`` elements
    along input axis ``axis`` (None: not moving, a broadcast or a repeat)."""

    size: int
    axis: int | None
    step: int


def _memory_strides(buf: Any, shape: tuple[int, ...], what: str) -> list[int]:
    """Per natural axis of a tensor of ``shape`` held in plan buffer ``buf``, its stride in
    elements in memory."""
    axes = tuple(buf.axes)
    if axes == tuple(range(len(axes))):  # C order: any view of the buffer is C order too
        return [int(np.prod(shape[q + 1:], dtype=np.int64)) for q in range(len(shape))]
    if tuple(buf.shape) != tuple(shape):
        raise LayoutError(f"{what}: buffer {buf.name} stores a reshaped view in another "
                          "element order; the shape ops need it in C order")
    mem = [shape[p] for p in axes]
    mstride = [int(np.prod(mem[m + 1:], dtype=np.int64)) for m in range(len(mem))]
    return [mstride[axes.index(q)] for q in range(len(shape))]


def walk(ctx: Any, op: Op, src: str, dst: str, parts: list[list[Part]],
         begin: list[int]) -> tuple[int, list[int], list[int]]:
    """(input offset, dims, strides) of the gather that writes tensor ``dst`` from ``src``:
    ``parts[k]`` the walk components of output axis k (outermost first), ``begin[q]`` where
    input axis q starts. Both in memory order: the output is walked in its buffer's order."""
    g = ctx.g
    in_shape, out_shape = g.tensors[src].shape, g.tensors[dst].shape
    if ctx.plan is None:  # the scratch-size program: no layouts
        return 0, [1] * AXES, [0] * AXES
    istride = _memory_strides(ctx.plan.for_tensor(src), in_shape, op.name)
    out_buf = ctx.plan.for_tensor(dst)
    axes = tuple(out_buf.axes)
    order = axes if axes != tuple(range(len(axes))) and tuple(out_buf.shape) == out_shape \
        else tuple(range(len(out_shape)))
    if order != tuple(range(len(out_shape))) and len(order) != len(out_shape):
        raise LayoutError(f"{op.name}: output buffer {out_buf.name} in another element order")
    dims, strides = [], []
    for k in order:
        for p in parts[k]:
            dims.append(p.size)
            strides.append(0 if p.axis is None else p.step * istride[p.axis])
    dims, strides = _merge(dims, strides)
    if len(dims) > AXES:
        raise ModelError(f"{op.name}: a copy of {len(dims)} axes that do not merge; armsim's "
                         f"gather walks {AXES}")
    pad = AXES - len(dims)
    offset = sum(b * istride[q] for q, b in enumerate(begin))
    return offset, [1] * pad + dims, [0] * pad + strides


def _merge(dims: list[int], strides: list[int]) -> tuple[list[int], list[int]]:
    """Drop axes of size 1 and merge an axis into the one outside it when they step on
    together (stride_out == stride_in * dim_in): fewer, longer loops."""
    d2, s2 = [], []
    for d, s in zip(dims, strides):
        if d == 1:
            continue
        if d2 and s2[-1] == s * d:
            d2[-1] *= d
            s2[-1] = s
            continue
        d2.append(d)
        s2.append(s)
    return d2 or [1], s2 or [0]


def render(ctx: Any, i: int, op: Op, src: str, dst: str, parts: list[list[Part]],
           begin: list[int], tag: str = "") -> list[str]:
    """The C call of the gather (declaring its dims and strides)."""
    offset, dims, strides = walk(ctx, op, src, dst, parts, begin)
    name = f"op{i}{tag}"
    ctx.lines.append(f"static const int32_t {name}_dims[{AXES}] = "
                     f"{{{', '.join(str(d) for d in dims)}}};")
    ctx.lines.append(f"static const int32_t {name}_strides[{AXES}] = "
                     f"{{{', '.join(str(s) for s in strides)}}};")
    quantized = ctx.g.quantized
    size = 1 if quantized else 4
    src_ptr = ctx.ptr(src)
    if offset:
        src_ptr = f"({src_ptr} + {offset})"
    return [f"armsim_gather({src_ptr}, {size}, {name}_dims, {name}_strides, "
            f"{ctx.ptr(dst, const=False)});"]


def broadcast_parts(in_shape: tuple[int, ...], out_shape: tuple[int, ...]
                    ) -> list[list[Part]]:
    """The walk of NumPy broadcasting ``in_shape`` to ``out_shape`` (right-aligned)."""
    lead = len(out_shape) - len(in_shape)
    parts = []
    for k, n in enumerate(out_shape):
        q = k - lead
        moves = q >= 0 and in_shape[q] == n
        parts.append([Part(n, q if moves else None, 1)])
    return parts


def broadcast_shape(shapes: list[tuple[int, ...]], where: str) -> tuple[int, ...]:
    """The shape NumPy broadcasts ``shapes`` to, or a ModelError naming them."""
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*shapes))
    except ValueError:
        raise ModelError(f"{where}: operands of shapes "
                         f"{' and '.join(str(list(s)) for s in shapes)} do not broadcast") \
            from None


def spelled_out(tensors: dict[str, Tensor], src: str, shape: tuple[int, ...],
                layer: str | None = None) -> tuple[Op | None, str]:
    """The op (None if ``src`` already has ``shape``) and tensor of ``src`` broadcast to
    ``shape``; the new tensor is added to ``tensors`` with ``src``'s type and quantization."""
    t = tensors[src]
    if t.shape == shape:
        return None, src
    name = f"{src}/broadcast_{'x'.join(str(d) for d in shape)}"
    tensors[name] = Tensor(name, shape, t.dtype, "activation", quant=t.quant)
    return Op(f"{src}/broadcast", "broadcast", (src,), (name,), {}, layer), name
