"""Plan a graph's memory: inputs and weights from a base address in the order the kernels
read them, activations in an arena where tensors whose lives do not overlap share bytes."""

from __future__ import annotations

import re

from armsim.errors import LayoutError
from armsim.graph import DTYPE_BYTES, Graph
from armsim.ops import registry
from armsim.plan.buffers import Buffer, Plan

ARENA_ALIGN = 16


def c_name(text: str) -> str:
    """A C identifier made from a tensor or op name."""
    s = re.sub(r"\W", "_", text)
    return s if s and not s[0].isdigit() else "_" + s


def aliases(g: Graph) -> dict[str, str]:
    """Outputs of ops that only reshape -> the tensor whose memory they share (followed to
    the root)."""
    out: dict[str, str] = {}
    for o in g.ops:
        if registry.of(o).alias:
            src = o.inputs[0]
            out[o.outputs[0]] = out.get(src, src)
    return out


def _order_text(shape: tuple[int, ...]) -> str:
    names = {1: "[c]", 2: "[w][c]", 3: "NHWC: x[h][w][c]"}
    return names.get(len(shape), f"C order over {shape}")


def _const_axes(g: Graph, tensor: str) -> tuple[tuple[int, ...], str]:
    """The element order of a constant: what the first op reading it asks of its slot (conv
    weights CMSIS-NN's OHWI, dense weights [out][in]), else the tensor's own order."""
    for o in g.ops:
        if tensor in o.inputs:
            order = registry.of(o).const_orders.get(o.inputs.index(tensor))
            if order is not None:
                return order
    rank = len(g.tensors[tensor].shape)
    return tuple(range(rank)), "[c]" if rank == 1 else "C order"


def lifetimes(g: Graph, alias: dict[str, str]) -> dict[str, tuple[int, int]]:
    """First and last op index touching each activation buffer (outputs live to the end)."""
    life: dict[str, list[int]] = {}
    for i, o in enumerate(g.ops):
        for name in o.inputs + o.outputs:
            t = g.tensors[name]
            if t.role in ("activation", "output"):
                root = alias.get(name, name)
                span = life.setdefault(root, [i, i])
                span[0], span[1] = min(span[0], i), max(span[1], i)
    end = len(g.ops)
    for name in g.outputs:
        root = alias.get(name, name)
        if root in life:
            life[root][1] = end
    return {k: (v[0], v[1]) for k, v in life.items()}


def place_arena(sizes: dict[str, int], life: dict[str, tuple[int, int]]) -> tuple[dict[str, int], int]:
    """Greedy placement, largest first, at the lowest offset free during the buffer's life.

    Returns offsets by buffer and the arena's size.
    """
    placed: list[tuple[int, int, tuple[int, int]]] = []  # offset, size, lifetime
    offsets: dict[str, int] = {}
    for name in sorted(sizes, key=lambda n: (-sizes[n], life[n][0], n)):
        size = (sizes[name] + ARENA_ALIGN - 1) // ARENA_ALIGN * ARENA_ALIGN
        a0, a1 = life[name]
        busy = sorted((off, off + sz) for off, sz, (b0, b1) in placed if a0 <= b1 and b0 <= a1)
        off = 0
        for lo, hi in busy:
            if off + size <= lo:
                break
            off = max(off, hi)
        offsets[name] = off
        placed.append((off, size, (a0, a1)))
    total = max((off + sz for off, sz, _ in placed), default=0)
    return offsets, total


def plan(g: Graph, base: int = 0x20000000, weights_in: str = "sram",
         scratch: dict[int, int] | None = None) -> Plan:
    """The generated plan: [inputs][weights, biases in read order][arena] from ``base``.

    ``scratch`` gives the bytes of scratch op ``i``'s kernel needs (int8 graphs: CMSIS-NN's
    own ``*_get_buffer_size`` on the target CPU); each lives in the arena during its op."""
    if weights_in not in ("sram", "flash"):
        raise LayoutError(f"--weights-in {weights_in!r}: expected 'sram' or 'flash'")
    if base % 8:
        raise LayoutError(f"--base 0x{base:08X} is not 8-byte aligned")
    buffers: list[Buffer] = []
    addr = base
    for name in g.inputs:
        t = g.tensors[name]
        b = Buffer(name, name, "input", addr, t.shape, tuple(range(len(t.shape))), t.dtype,
                   region="sram", order=_order_text(t.shape),
                   description=f"model input {t.shape}", symbol=f"armsim_in_{c_name(name)}")
        buffers.append(b)
        addr = (b.end + 7) & ~7
    for t in g.constants():
        axes, order = _const_axes(g, t.name)
        user = next(o for o in g.ops if t.name in o.inputs)
        desc = f"{t.role} of {user.name} ({user.kind})"
        sym = f"armsim_w_{c_name(t.name)}"
        if weights_in == "flash":
            buffers.append(Buffer(t.name, t.name, t.role, None, t.shape, axes, t.dtype,
                                  region="flash", order=order, description=desc, symbol=sym))
            continue
        b = Buffer(t.name, t.name, t.role, addr, t.shape, axes, t.dtype, region="sram",
                   order=order, description=desc, symbol=sym)
        buffers.append(b)
        addr = (b.end + 7) & ~7
    return _with_arena(g, buffers, base, addr, "auto", weights_in, scratch=scratch or {})


def _with_arena(g: Graph, buffers: list[Buffer], base: int, after: int, preset: str,
                weights_in: str, seed_order: tuple[str, ...] = (),
                filters: int | None = None, scratch: dict[int, int] | None = None) -> Plan:
    """Add the activation arena at ``after`` (aligned) and return the plan."""
    alias = aliases(g)
    life = lifetimes(g, alias)
    sizes = {n: g.tensors[n].size * DTYPE_BYTES[g.tensors[n].dtype] for n in life}
    for i, nbytes in (scratch or {}).items():
        if nbytes > 0:
            sizes[f"scratch:{i}"] = nbytes
            life[f"scratch:{i}"] = (i, i)
    offsets, total = place_arena(sizes, life)
    start = (after + ARENA_ALIGN - 1) // ARENA_ALIGN * ARENA_ALIGN
    for name in sorted(offsets, key=lambda n: life[n]):
        if name.startswith("scratch:"):
            i = int(name.split(":")[1])
            op = g.ops[i]
            buffers.append(Buffer(name, name, "scratch", start + offsets[name], (sizes[name],),
                                  (0,), "int8", region="arena", order="bytes",
                                  description=f"scratch of {op.name} ({op.kind})",
                                  producer=op.name, symbol=f"armsim_s_op{i}",
                                  lifetime=life[name]))
            continue
        t = g.tensors[name]
        prod = g.producer(name)
        buffers.append(Buffer(name, name, t.role, start + offsets[name], t.shape,
                              tuple(range(len(t.shape))), t.dtype, region="arena",
                              order=_order_text(t.shape),
                              description=f"output of {prod.name if prod else '?'}",
                              producer=prod.name if prod else None,
                              symbol=f"armsim_t_{c_name(name)}", lifetime=life[name]))
    return Plan(preset, g, tuple(buffers), base, (start, total), weights_in, seed_order,
                filters, alias)
