"""What the data-movement op kinds share (``broadcast``, ``slice``, ``transpose``, ``tile``,
``gather``): the walk of C's ``armsim_gather`` (kernels/include/armsim_nn_copy.h) over an
output, computed from each output axis's source in the input, in memory order on both sides
so the plan's layouts are honoured; one call for float32, int8 and int16 (16x8) graphs
alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from armsim.errors import LayoutError, ModelError
from armsim.graph import DTYPE_BYTES, Op, Tensor

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


def walk(ctx: Any, op: Op, src: str, dst: str, parts: list[list[Part]], begin: list[int],
         dst_begin: list[int] | None = None, dst_shape: tuple[int, ...] | None = None
         ) -> tuple[int, int, list[int], list[int], list[int]]:
    """(input offset, output offset, dims, input strides, output strides) of the copy into
    tensor ``dst`` from ``src``: ``parts[k]`` the walk components of output axis k (outermost
    first) over a block of ``dst_shape`` (default: all of ``dst``) at ``dst_begin``,
    ``begin[q]`` where input axis q starts. The output is walked in its buffer's memory
    order, both sides' strides taken from the plan's layouts."""
    g = ctx.g
    in_shape, full = g.tensors[src].shape, g.tensors[dst].shape
    block = dst_shape if dst_shape is not None else full
    if ctx.plan is None:  # the scratch-size program: no layouts
        return 0, 0, [1] * AXES, [0] * AXES, [0] * AXES
    istride = _memory_strides(ctx.plan.for_tensor(src), in_shape, op.name)
    out_buf = ctx.plan.for_tensor(dst)
    ostride = _memory_strides(out_buf, full, op.name)
    # the output's axes from its outermost in memory to its innermost
    order = sorted(range(len(full)), key=lambda k: -ostride[k])
    dims, ins, outs = [], [], []
    for k in order:  # each output axis's components, outermost first
        sizes = [p.size for p in parts[k]]
        if int(np.prod(sizes, dtype=np.int64)) != block[k]:
            raise ModelError(f"{op.name}: a walk of {sizes} for an output axis of {block[k]}")
        for j, p in enumerate(parts[k]):
            inner = int(np.prod(sizes[j + 1:], dtype=np.int64))
            dims.append(p.size)
            ins.append(0 if p.axis is None else p.step * istride[p.axis])
            outs.append(inner * ostride[k])
    dims, ins, outs = _merge(dims, ins, outs)
    if len(dims) > AXES:
        raise ModelError(f"{op.name}: a copy of {len(dims)} axes that do not merge; armsim's "
                         f"gather walks {AXES}")
    pad = AXES - len(dims)
    offset = sum(b * istride[q] for q, b in enumerate(begin))
    out_offset = sum(b * ostride[k] for k, b in enumerate(dst_begin or []))
    return offset, out_offset, [1] * pad + dims, [0] * pad + ins, [0] * pad + outs


def _merge(dims: list[int], ins: list[int], outs: list[int]
           ) -> tuple[list[int], list[int], list[int]]:
    """Drop axes of size 1 and merge an axis into the one outside it when both sides step
    on together (outer stride == inner stride * inner dim): fewer, longer loops."""
    d2: list[int] = []
    i2: list[int] = []
    o2: list[int] = []
    for d, si, so in zip(dims, ins, outs):
        if d == 1:
            continue
        if d2 and i2[-1] == si * d and o2[-1] == so * d:
            d2[-1] *= d
            i2[-1], o2[-1] = si, so
            continue
        d2.append(d)
        i2.append(si)
        o2.append(so)
    return d2 or [1], i2 or [0], o2 or [0]


def render(ctx: Any, i: int, op: Op, src: str, dst: str, parts: list[list[Part]],
           begin: list[int], tag: str = "", dst_begin: list[int] | None = None,
           dst_shape: tuple[int, ...] | None = None) -> list[str]:
    """The C call of the copy (declaring its dims and strides); ``dst_begin`` and
    ``dst_shape``: it writes that block of ``dst`` (default: all of it)."""
    offset, out_offset, dims, ins, outs = walk(ctx, op, src, dst, parts, begin, dst_begin,
                                               dst_shape)
    name = f"op{i}{tag}"
    for what, vals in (("dims", dims), ("in", ins), ("out", outs)):
        ctx.lines.append(f"static const int32_t {name}_{what}[{AXES}] = "
                         f"{{{', '.join(str(v) for v in vals)}}};")
    size = DTYPE_BYTES[ctx.g.tensors[src].dtype]
    src_ptr = ctx.ptr(src)
    if offset:
        src_ptr = f"({src_ptr} + {offset})"
    dst_ptr = ctx.ptr(dst, const=False)
    if out_offset:
        dst_ptr = f"({dst_ptr} + {out_offset})"
    return [f"armsim_gather({src_ptr}, {size}, {name}_dims, {name}_in, {dst_ptr}, "
            f"{name}_out);"]


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
