"""C arithmetic of the debug-function language: operators, conversions to C types, and the
bits a memory write stores. Shared by the parser (constant writes) and the interpreter."""

from __future__ import annotations

import math
import struct

import numpy as np

from armsim.errors import ScriptError
from armsim.script.model import UNSIGNED_HIGH, WriteKind
from armsim.script.program import CType, Expr
from armsim.script.values import ValueRangeError, parse_float32

Num = int | float


class Fault(ScriptError):
    """An error at a known (line, col) of the running source; the caller adds the file."""


def fault(e: Expr, message: str) -> Fault:
    """An error at expression ``e``'s position."""
    return Fault(message, "", e[-2], e[-1])


def convert(v: Num, t: CType) -> Num:
    """``v`` converted to C type ``t`` (integers wrap to the width, as C does)."""
    if t[0] == "f":
        f = float(v)
        return float(np.float32(f)) if t[1] == 4 and math.isfinite(f) and abs(f) <= 3.4e38 \
            else f
    if t[0] == "v":
        return 0
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"{v} cannot be converted to an integer")
        v = int(v)  # C truncates toward zero
    size, signed = (t[1], t[2]) if t[0] == "i" else (4, False)
    bits = 8 * size
    v &= (1 << bits) - 1
    if signed and v >> (bits - 1):
        v -= 1 << bits
    return v


def is_int(v: Num) -> bool:
    return isinstance(v, int)


def binary(op: str, a: Num, b: Num, e: Expr) -> Num:
    """``a op b`` with C semantics (truncating division; comparisons give 0/1)."""
    ints = is_int(a) and is_int(b)
    if op in ("|", "^", "&", "<<", ">>", "%") and not ints:
        raise fault(e, f"operator '{op}' needs integers")
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op in ("/", "%"):
        if b == 0:
            raise fault(e, "division by zero")
        if ints:
            assert isinstance(a, int) and isinstance(b, int)
            q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)  # C truncation
            return q if op == "/" else a - q * b
        return a / b
    if op in ("==", "!=", "<", ">", "<=", ">="):
        return int({"==": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b,
                    ">=": a >= b}[op])
    assert isinstance(a, int) and isinstance(b, int)
    if op in ("<<", ">>"):
        if not 0 <= b < 64:
            raise fault(e, f"shift count {b} out of range 0..63")
        return a << b if op == "<<" else a >> b
    return a | b if op == "|" else a ^ b if op == "^" else a & b


def unary(op: str, v: Num, e: Expr) -> Num:
    """``op v`` for - + ~ !."""
    if op == "-":
        return -v
    if op == "!":
        return int(not v)
    if op == "~":
        if not is_int(v):
            raise fault(e, "operator '~' needs an integer")
        assert isinstance(v, int)
        return ~v
    return v


def fold(e: Expr) -> Num | None:
    """The value of a constant expression (numbers and operators only), else None."""
    kind = e[0]
    if kind == "int":
        return int(e[1])
    if kind == "float":
        return float(e[1].rstrip("fF"))
    if kind == "un":
        v = fold(e[2])
        return None if v is None else unary(e[1], v, e)
    if kind == "bin" and e[1] not in ("&&", "||"):
        a, b = fold(e[2]), fold(e[3])
        return None if a is None or b is None else binary(e[1], a, b, e)
    return None


def write_bits(kind: WriteKind, literal: str | None, v: Num, at: Expr) -> int:
    """The bits a write of ``v`` stores, or a Fault naming the value's problem."""
    if kind.is_float:
        if literal is not None and kind.size == 4:
            try:
                f = parse_float32(literal)
            except ValueRangeError as e:
                raise fault(at, f"{kind.name} value {literal} {e.args[1]}") from None
            return int(np.float32(f).view(np.uint32))
        if isinstance(v, int) and float(np.float32(v) if kind.size == 4 else float(v)) != v:
            raise fault(at, f"{kind.name} value {v} is not exactly representable as "
                        f"float{8 * kind.size}")
        if not math.isfinite(float(v)):
            raise fault(at, f"{kind.name} value {v!r} is not a finite number")
        if kind.size == 4:
            try:
                f = parse_float32(repr(float(v)))
            except (ValueRangeError, OverflowError) as e:
                why = e.args[1] if isinstance(e, ValueRangeError) else "overflows"
                raise fault(at, f"{kind.name} value {v!r} {why}") from None
            return int(np.float32(f).view(np.uint32))
        return struct.unpack("<Q", struct.pack("<d", float(v)))[0]
    if literal is not None or not isinstance(v, int):
        raise fault(at, f"{kind.name} expects an integer value, found {literal or repr(v)}")
    width = 8 * kind.size
    if not -(1 << (width - 1)) <= v < 1 << width:
        raise fault(at, f"{kind.name} value {v} does not fit {kind.size} byte(s)")
    bits = v & ((1 << width) - 1)
    return bits | UNSIGNED_HIGH if v >= 1 << (width - 1) else bits


def type_bits(t: CType, v: Num) -> int:
    """The little-endian bits of ``v`` stored as C type ``t`` (a store through a pointer)."""
    if t[0] == "f":
        return int(np.float32(v).view(np.uint32)) if t[1] == 4 else \
            struct.unpack("<Q", struct.pack("<d", float(v)))[0]
    size = t[1] if t[0] == "i" else 4
    return int(convert(v, ("i", size, False)))


def from_bytes(t: CType, data: bytes) -> Num:
    """A value of C type ``t`` read from little-endian ``data``."""
    if t[0] == "f":
        return float(np.frombuffer(data, "<f4" if t[1] == 4 else "<f8")[0])
    signed = t[2] if t[0] == "i" else False
    return int.from_bytes(data, "little", signed=signed)


def type_size(t: CType) -> int:
    """Bytes of a C type (pointers are 4)."""
    return t[1] if t[0] in ("i", "f") else 4
