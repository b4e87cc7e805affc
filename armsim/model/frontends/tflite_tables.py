"""Chains of int8 element-wise operators of one tensor, read as one 256-entry table.

The converter writes some activations as several int8 operators that all depend on one
tensor ``x`` only: softsign is ``DIV(x, ADD(ABS(x), 1))``, selu ``SELECT_V2(GREATER(x, 0),
MUL(x, s), MUL(SUB(EXP(x), 1), s))``. When such a chain includes an operator armsim has no
int8 kernel for, the chain's output is a function of the byte ``x``: armsim evaluates every
operator of it on all 256 values with TFLite's own int8 arithmetic (each op kind's
``tflite_s8_eval``) and runs one table look-up on the chip. Bit-exact by construction where
each operator's arithmetic is TFLite's; the tests check it against the interpreter.

A chain qualifies when its operators have int8 arithmetic, every other operand is a
constant of one value, and the output has ``x``'s shape. An intermediate result read outside
the chain (or a model output) is still computed by its own operators, which then need int8
kernels; the table recomputes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from armsim.ops import registry

#: The most operators one table stands for (a guard on the search, not a TFLite limit).
MAX_CHAIN = 16


@dataclass(frozen=True)
class Chain:
    """Operators ``ops`` (file order, ``last`` computes the output) from tensor ``src`` to
    ``dst``, the table of ``dst`` indexed by the byte of ``src``, and the operators of
    ``ops`` that also run on their own (``kept``: others read their results)."""

    ops: tuple[int, ...]
    last: int
    src: int
    dst: int
    table: tuple[int, ...]
    kept: tuple[int, ...] = ()


def find(r: Any, order: list[int], need: set[int]) -> dict[int, Chain]:
    """The chains (by their last operator) that cover the operators ``need`` (ones armsim
    has no int8 kernel for) where a chain can; operators no chain covers stay outside."""
    producer = {int(t): i for i in order for t in r.sg.Operators(i).OutputsAsNumpy()}
    readers: dict[int, set[int]] = {}
    for i in order:
        for t in r.sg.Operators(i).InputsAsNumpy():
            readers.setdefault(int(t), set()).add(i)
    outputs = {int(t) for t in r.sg.OutputsAsNumpy()}
    chains: dict[int, Chain] = {}
    taken: set[int] = set()
    for last in reversed(order):
        if last not in need or last in taken:
            continue
        chain = _chain(r, last, producer, readers, outputs, order)
        if chain is not None:
            chains[last] = chain
            taken.update(chain.ops)
    return chains


def _operands(r: Any, i: int) -> list[int]:
    """Operator ``i``'s input tensors (absent optional ones, -1, left out)."""
    return [int(t) for t in r.sg.Operators(i).InputsAsNumpy() if int(t) >= 0]


def _constant(r: Any, t: int) -> bool:
    """A constant of one value (broadcast over the chain, the table stays element-wise)."""
    d = r.data(t)
    return d is not None and r.dtype(t) == "int8" and d.size >= 1 and \
        bool(np.all(d == d.reshape(-1)[0]))


def _ops_from(r: Any, last: int, src: int, producer: dict[int, int]) -> set[int] | None:
    """The operators ``last`` depends on back to tensor ``src`` (None: it depends on
    something else, or on an operator without int8 arithmetic)."""
    ops: set[int] = set()
    stack = [last]
    while stack:
        k = stack.pop()
        if k in ops:
            continue
        if registry.tflite_s8_eval(r.op_name(k)) is None or len(ops) >= MAX_CHAIN:
            return None
        ops.add(k)
        for t in _operands(r, k):
            if t == src or _constant(r, t):
                continue
            if r.data(t) is not None or t not in producer:
                return None
            stack.append(producer[t])
    return ops


def _chain(r: Any, last: int, producer: dict[int, int], readers: dict[int, set[int]],
           outputs: set[int], order: list[int]) -> Chain | None:
    dst = int(r.sg.Operators(last).Outputs(0))
    if r.dtype(dst) != "int8":
        return None
    # candidate sources: tensors above ``last``, the nearest first
    seen: list[int] = []
    stack = [last]
    visited: set[int] = set()
    while stack and len(visited) <= MAX_CHAIN:
        k = stack.pop()
        if k in visited:
            continue
        visited.add(k)
        for t in _operands(r, k):
            if r.data(t) is None and t not in seen:
                seen.append(t)
                if t in producer and registry.tflite_s8_eval(r.op_name(producer[t])):
                    stack.append(producer[t])
    position = {i: n for n, i in enumerate(order)}
    seen.sort(key=lambda t: -position.get(producer.get(t, -1), -1))
    for src in seen:
        if r.dtype(src) != "int8" or r.shape(src) != r.shape(dst):
            continue
        ops = _ops_from(r, last, src, producer)
        if ops is None:
            continue
        kept = _kept(r, ops, last, producer, readers, outputs)
        if kept is None:
            continue
        chain = tuple(sorted(ops, key=position.__getitem__))
        return Chain(chain, last, src, dst, _table(r, chain, src, dst),
                     tuple(sorted(kept, key=position.__getitem__)))
    return None


def _kept(r: Any, ops: set[int], last: int, producer: dict[int, int],
          readers: dict[int, set[int]], outputs: set[int]) -> set[int] | None:
    """The chain's operators that still run on their own: those whose result is read
    outside the chain (the converter shares an EXP between softplus and selu, say) and
    the chain operators they read; None when one of them has no int8 kernel."""
    kept: set[int] = set()
    stack = [k for k in ops if k != last and any(
        t in outputs or not readers.get(t, set()) <= ops
        for t in (int(t) for t in r.sg.Operators(k).OutputsAsNumpy()))]
    while stack:
        k = stack.pop()
        if k in kept:
            continue
        if not registry.tflite_int8(r.op_name(k)):
            return None
        kept.add(k)
        stack.extend(producer[t] for t in _operands(r, k)
                     if t in producer and producer[t] in ops)
    return kept


def _table(r: Any, chain: tuple[int, ...], src: int, dst: int) -> tuple[int, ...]:
    """Every operator of the chain on the 256 values of ``src``: the values of ``dst``,
    indexed by the byte of ``src`` (as uint8)."""
    v = np.arange(-128, 128, dtype=np.int64)
    values: dict[int, np.ndarray] = {src: v}
    for k in chain:
        args = [values[t] if t in values else r.data(t).reshape(-1)[:1].astype(np.int64)
                for t in _operands(r, k)]
        out = registry.tflite_s8_eval(r.op_name(k))(r, k, args)  # type: ignore[misc]
        values[int(r.sg.Operators(k).Outputs(0))] = np.asarray(out)
    y = np.broadcast_to(values[dst], v.shape)
    table = np.zeros(256, np.int64)
    table[v & 0xFF] = np.clip(y, -128, 127)
    return tuple(int(t) for t in table)
