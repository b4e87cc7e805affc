"""C printf formatting for the debug-function language's printf."""

from __future__ import annotations

import math
import re

from armsim.script import arith
from armsim.script.arith import Num
from armsim.script.program import Expr

_FORMAT = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?(hh|h|ll|l|L|z|j|t)?([diouxXeEfgGcsp%])")


def format_c(fmt: str, values: list[Num | str], e: Expr) -> str:
    """``fmt`` with C conversions applied to ``values``; a Fault at ``e`` on a mismatch."""
    out: list[str] = []
    pos = 0
    for m in _FORMAT.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width, prec, _, conv = m.groups()
        if conv == "%":
            out.append("%")
            continue
        if width == "*" or prec == "*":
            raise arith.fault(e, "printf: '*' widths are not supported")
        if not values:
            raise arith.fault(e, f"printf: format '{fmt}' needs more arguments than given")
        v = values.pop(0)
        spec = "%" + flags + (width or "") + (f".{prec}" if prec is not None else "")
        if isinstance(v, str) != (conv == "s"):
            raise arith.fault(e, f"printf: %{conv} needs "
                              f"{'a string' if conv == 's' else 'a number'}, got {v!r}")
        if conv in "diouxXc" and isinstance(v, float):
            if not math.isfinite(v):
                raise arith.fault(e, f"printf: %{conv} of {v}")
            v = int(v)
        if conv == "u":
            conv, v = "d", int(v) & 0xFFFFFFFF  # type: ignore[arg-type]
        elif conv in "xXo" and isinstance(v, int) and v < 0:
            v &= 0xFFFFFFFF
        elif conv == "p":
            conv, v = "X", int(v) & 0xFFFFFFFF  # type: ignore[arg-type]
            spec = "0x%08"
        elif conv in "eEfgG":
            v = float(v)  # type: ignore[arg-type]
        try:
            out.append((spec + conv) % v)
        except (TypeError, ValueError, OverflowError) as exc:
            raise arith.fault(e, f"printf: cannot format {v!r} with %{conv}: {exc}") \
                from None
    out.append(fmt[pos:])
    if values:
        raise arith.fault(e, f"printf: {len(values)} argument(s) more than the format uses")
    return "".join(out)
