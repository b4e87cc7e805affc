"""Compare emulator outputs with the host model's, NaN-aware, with an explicit tolerance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Comparison:
    """Emulator vs host for one input."""

    max_abs_diff: float
    same_class: bool
    nan: bool
    tolerance: float

    @property
    def agree(self) -> bool:
        """Same class, no NaN on either side, every output within the tolerance."""
        return self.same_class and not self.nan and self.max_abs_diff <= self.tolerance


def compare(emu: np.ndarray, host: np.ndarray, tolerance: float = DEFAULT_TOLERANCE) -> Comparison:
    """Max |emu - host| (inf when either has a NaN) and whether the argmax matches."""
    e = np.asarray(emu, np.float64)
    h = np.asarray(host, np.float64)
    nan = bool(np.isnan(e).any() or np.isnan(h).any())
    diff = float("inf") if nan else float(np.max(np.abs(e - h)))
    same = (not nan) and int(np.argmax(e)) == int(np.argmax(h))
    return Comparison(diff, same, nan, tolerance)
