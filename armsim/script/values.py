"""Decimal text to float32, correctly rounded, with overflow and underflow refused.

Python parses a literal to the nearest float64; rounding that to float32 can differ from
rounding the decimal directly only when the float64 lands exactly on a float32 midpoint.
Those rare cases are settled with exact rational arithmetic.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

F32_MAX = float(np.finfo(np.float32).max)


class ValueRangeError(ValueError):
    """A literal that does not fit float32 (overflow, or a nonzero value rounding to zero)."""


def _fix_midpoints(texts: list[str], d: np.ndarray, f: np.ndarray) -> None:
    """Re-round, exactly, the entries whose float64 sits on a float32 rounding midpoint."""
    with np.errstate(over="ignore", invalid="ignore"):
        lo = np.nextafter(f, np.float32(-np.inf), dtype=np.float32)
        hi = np.nextafter(f, np.float32(np.inf), dtype=np.float32)
        mid_lo = (f.astype(np.float64) + lo.astype(np.float64)) / 2
        mid_hi = (f.astype(np.float64) + hi.astype(np.float64)) / 2
    suspect = np.flatnonzero(np.isfinite(f) & ((d == mid_lo) | (d == mid_hi)))
    for i in suspect:
        exact = Fraction(texts[i].rstrip("fF"))
        other = lo[i] if d[i] == mid_lo[i] else hi[i]
        mid = Fraction(float(d[i]))
        if exact == mid:
            continue  # a true tie: numpy already rounded half to even
        if (exact < mid) == (float(other) < float(f[i])):
            f[i] = other


def parse_float32_array(texts: list[str]) -> np.ndarray:
    """Parse decimal literals (optional f suffix) to correctly rounded float32 values.

    Raises ValueRangeError with the index of the first literal that overflows float32 or is
    nonzero but rounds to zero, and ValueError for text that is not a number.
    """
    cleaned = [t[:-1] if t[-1:] in ("f", "F") and t[-2:-1] not in ("n", "N") else t
               for t in texts]
    try:
        d = np.array(cleaned, dtype=np.float64) if cleaned else np.zeros(0)
    except ValueError:
        for i, t in enumerate(cleaned):
            try:
                float(t)
            except ValueError:
                raise ValueRangeError(i, "is not a number") from None
        raise
    with np.errstate(over="ignore", under="ignore"):
        f = d.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(f) | ((f == 0) & (d != 0)))
    if bad.size:
        i = int(bad[0])
        why = ("is not a finite number" if not np.isfinite(d[i]) else
               "overflows float32 (max 3.4028235e+38)" if abs(d[i]) > F32_MAX else
               "is nonzero but rounds to 0 in float32 (smallest 1.4e-45)")
        raise ValueRangeError(i, why)
    _fix_midpoints(cleaned, d, f)
    return f


def parse_float32(text: str) -> np.float32:
    """One literal; see :func:`parse_float32_array`."""
    return parse_float32_array([text])[0]
