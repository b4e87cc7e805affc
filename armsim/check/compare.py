"""Compare emulator outputs with the host model's, NaN-aware, with an explicit tolerance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Comparison:
    """Emulator vs host for one input."""

    max_abs_diff: float
    max_ulp: int
    same_class: bool
    nan: bool
    within: bool
    tolerance: float
    rtol: float

    @property
    def agree(self) -> bool:
        """Same class (classifiers), no NaN on either side, every output within
        atol + rtol * |host|."""
        return self.same_class and not self.nan and self.within


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Float32 units in the last place between a and b (0 for equal values, -0.0 == 0.0)."""
    ia = np.asarray(a, np.float32).view(np.int32).astype(np.int64)
    ib = np.asarray(b, np.float32).view(np.int32).astype(np.int64)
    # map the sign-magnitude bit patterns onto a monotonic integer line
    ia = np.where(ia < 0, -(ia & 0x7FFFFFFF), ia)
    ib = np.where(ib < 0, -(ib & 0x7FFFFFFF), ib)
    return np.abs(ia - ib)


def compare(emu: np.ndarray, host: np.ndarray, tolerance: float = DEFAULT_TOLERANCE,
            rtol: float = 0.0, classify: bool = True) -> Comparison:
    """Max |emu - host|, max ULP distance, and agreement. A NaN on either side never
    compares as close (its position is reported as a mismatch even if both sides have it).
    With ``classify`` (a classifier's output) the argmax must agree too."""
    e = np.asarray(emu, np.float64)
    h = np.asarray(host, np.float64)
    nan = bool(np.isnan(e).any() or np.isnan(h).any())
    if nan:
        return Comparison(float("inf"), 2**32, False, True, False, tolerance, rtol)
    d = np.abs(e - h)
    within = bool(np.all(d <= tolerance + rtol * np.abs(h)))
    ulp = int(ulp_distance(np.asarray(emu, np.float32), np.asarray(host, np.float32)).max())
    same = int(np.argmax(e)) == int(np.argmax(h)) if classify else True
    return Comparison(float(d.max()), ulp, same, False, within, tolerance, rtol)
