"""Write memory contents as uVision scripts: the seed's exact format, or a tidier hex one.

The buffers go out in the plan's export order (the seed notebook's own order for the seed
preset); the packed mapping passed in decides which buffers (the input only, when the
weights live in flash). float32 buffers are ``_WFLOAT`` lines; int8 buffers (an int8
model's weights and input) ``_WBYTE``, int16 buffers (a 16x8 model's activations) ``_WWORD`` and
int32 buffers (biases) ``_WDWORD``, with signed decimal values; an int64 bias (16x8) is two
``_WDWORD`` lines, low word first.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from armsim.errors import LayoutError
from armsim.plan import Plan


def _check_finite(name: str, values: np.ndarray) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise LayoutError(f"{name}[{int(bad[0])}] is {values[bad[0]]}: a uVision script "
                          "cannot express NaN or infinity")


def export_order(plan: Plan) -> list[str]:
    """The buffers a script carries, in the order they are written."""
    return list(plan.seed_order) or [b.name for b in plan]


def _values(layout: Plan, packed: Mapping[str, np.ndarray]) -> Iterable[tuple[str, int, np.ndarray]]:
    for name in export_order(layout):
        if name not in packed:
            continue
        buf = layout[name]
        vals = np.asarray(packed[name], buf.dtype).reshape(-1)
        if vals.size != buf.count:
            raise LayoutError(f"{name}: {vals.size} values, the plan needs {buf.count}")
        if buf.dtype == "float32":
            _check_finite(name, vals)
        assert buf.address is not None
        yield name, buf.address, vals


def float32_line(address: int, value: np.float32, style: str = "seed") -> str:
    """One ``_WFLOAT`` line: the seed's spelling (decimal address) or the hex style."""
    if style == "seed":
        return f"_WFLOAT ({address},{str(value)}) \n"
    return f"_WFLOAT(0x{address:08X}, {str(value)});\n"


#: The write function of each buffer dtype.
FUNCTIONS = {"float32": "_WFLOAT", "int8": "_WBYTE", "int16": "_WWORD", "int32": "_WDWORD"}


def value_line(function: str, address: int, value: int, style: str = "seed") -> str:
    """One integer write line (``_WBYTE``/``_WDWORD``), signed decimal value."""
    if style == "seed":
        return f"{function} ({address},{int(value)}) \n"
    return f"{function}(0x{address:08X}, {int(value)});\n"


def _lines(base: int, vals: np.ndarray, style: str) -> list[str]:
    if vals.dtype == np.float32:
        return [float32_line(base + 4 * i, v, style) for i, v in enumerate(vals)]
    if vals.dtype == np.int64:  # no 64-bit write function: two _WDWORD, low word first
        vals = vals.astype("<i8").view("<i4")
    fn = FUNCTIONS[str(vals.dtype)]
    size = vals.dtype.itemsize
    return [value_line(fn, base + size * i, v, style) for i, v in enumerate(vals.tolist())]


def seed_format(layout: Plan, packed: Mapping[str, np.ndarray]) -> str:
    """Exactly what the seed notebook writes: ``_WFLOAT (<decimal>,<str(float32)>) ``
    (and, for int8 plans, ``_WBYTE (<decimal>,<value>) `` in the same style)."""
    out: list[str] = []
    for _name, base, vals in _values(layout, packed):
        out.extend(_lines(base, vals, "seed"))
    return "".join(out)


def hex_format(layout: Plan, packed: Mapping[str, np.ndarray], header: Iterable[str] = ()) -> str:
    """Hex addresses, one commented section per buffer, values that round-trip exactly."""
    out = [f"// {h}\n" for h in header]
    for name, base, vals in _values(layout, packed):
        buf = layout[name]
        kind = {"float32": "f32"}.get(buf.dtype, buf.dtype)
        out.append(f"\n// {name}: {buf.count} x {kind} at 0x{base:08X}-0x{buf.end - 1:08X}, "
                   f"{buf.order}\n")
        out.extend(_lines(base, vals, "hex"))
    return "".join(out)
