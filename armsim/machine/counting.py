"""Exact per-block execution counting: a native C hook, or a Python hook as a fallback.

Both count executions per translated block (keyed by address and size); the machine turns
counts into instructions (each block decoded once with capstone). Both stop the engine once
more blocks than the instruction budget have run: a block holds at least one instruction,
so this never stops a run within budget; the machine checks the exact total afterwards.
"""

from __future__ import annotations

import ctypes
import sys
import time
from typing import Protocol

import numpy as np
from unicorn import UC_HOOK_BLOCK, Uc, UcError
from unicorn.unicorn_py3.unicorn import uc_hook_h, uclib

from armsim.errors import ArmsimError, ToolchainError

try:
    from armsim.machine import _blockcount as _native
except ImportError:  # the optional extension was not built
    _native = None

_warned = False


class BlockCounter(Protocol):
    """What the machine needs from a counter."""

    native: bool
    #: True when the counter enforces the wall-clock limit itself (no emu_start timeout)
    deadline: bool

    def reset(self, budget: int, timeout_s: float | None = None) -> None: ...
    def arrays(self) -> tuple[np.ndarray, np.ndarray]: ...
    def last(self) -> tuple[int, int]: ...
    def over_budget(self) -> bool: ...
    def timed_out(self) -> bool: ...
    def detach(self) -> None: ...


class PythonCounter:
    """A Python UC_HOOK_BLOCK callback: exact, about 40x slower than the bare engine."""

    native = False
    deadline = False

    def __init__(self, uc: Uc, code: tuple[int, int] = (0, 0)) -> None:
        self._uc = uc
        self._counts: dict[tuple[int, int], int] = {}
        self._blocks = 0
        self._budget = 2**63
        self._last = (0, 0)
        self._stopped = False
        self._handle = uc.hook_add(UC_HOOK_BLOCK, self._on_block)

    def _on_block(self, uc: Uc, address: int, size: int, _data: object) -> None:
        key = (address, size)
        self._last = key
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1
        self._blocks += 1
        if self._blocks > self._budget and not self._stopped:
            self._stopped = True
            uc.emu_stop()

    def reset(self, budget: int, timeout_s: float | None = None) -> None:
        self._counts = {}
        self._blocks = 0
        self._budget = budget
        self._last = (0, 0)
        self._stopped = False

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        keys = np.array([(a << 32) | s for a, s in self._counts], np.uint64)
        return keys, np.array(list(self._counts.values()), np.uint64)

    def last(self) -> tuple[int, int]:
        return self._last

    def over_budget(self) -> bool:
        return self._stopped

    def timed_out(self) -> bool:
        return False  # emu_start's timeout enforces the limit

    def detach(self) -> None:
        self._uc.hook_del(self._handle)


def native_hook(uc: Uc, kinds: int, callback: int, user: int, begin: int = 1,
                end: int = 0) -> object:
    """Register a C callback (an address in armsim.machine._blockcount) with its user data on the
    engine through Unicorn's C API, for addresses [begin, end] (all when begin > end);
    returns the hook handle."""
    handle = uc_hook_h()
    status = uclib.uc_hook_add(uc._uch, ctypes.byref(handle), kinds, ctypes.c_void_p(callback),
                               ctypes.c_void_p(user), ctypes.c_uint64(begin),
                               ctypes.c_uint64(end))
    if status != 0:
        raise UcError(status)
    return handle


class NativeCounter:
    """The C hook from ``armsim.machine._blockcount``: no Python code runs per block. It also
    enforces the wall-clock limit (a clock read every few thousand blocks), so runs need no
    emu_start timeout and its spinning watchdog thread."""

    native = True
    deadline = True

    def __init__(self, uc: Uc, code: tuple[int, int] = (0, 0)) -> None:
        assert _native is not None
        self._uc = uc
        self._lib = uclib
        stop = ctypes.cast(uclib.uc_emu_stop, ctypes.c_void_p).value
        self._ptr = _native.new(stop, code[0], code[1])
        try:
            self._handle = native_hook(uc, UC_HOOK_BLOCK, _native.hook_address(), self._ptr)
        except UcError:
            _native.free(self._ptr)
            raise

    def reset(self, budget: int, timeout_s: float | None = None) -> None:
        deadline = 0 if not timeout_s else time.monotonic_ns() + int(timeout_s * 1e9)
        _native.reset(self._ptr, min(budget, 2**64 - 1), deadline)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        keys, counts = _native.results(self._ptr)
        return np.frombuffer(keys, np.uint64), np.frombuffer(counts, np.uint64)

    def last(self) -> tuple[int, int]:
        key = _native.state(self._ptr)[1]
        return key >> 32, key & 0xFFFFFFFF

    def over_budget(self) -> bool:
        _executed, _last, stopped, oom, _timed_out = _native.state(self._ptr)
        if oom:
            raise MemoryError("native block counter ran out of memory")
        return bool(stopped)

    def timed_out(self) -> bool:
        return bool(_native.state(self._ptr)[4])

    def detach(self) -> None:
        if self._ptr:
            self._lib.uc_hook_del(self._uc._uch, self._handle)
            _native.free(self._ptr)
            self._ptr = 0

    def __del__(self) -> None:
        # The engine may already be closed: free our memory without touching it.
        if getattr(self, "_ptr", 0) and _native is not None:
            _native.free(self._ptr)
            self._ptr = 0


class NoCounter:
    """No hook at all: the bare engine, for benchmarks. Counts nothing."""

    native = False
    deadline = False

    def __init__(self, uc: Uc, code: tuple[int, int] = (0, 0)) -> None:
        pass

    def reset(self, budget: int, timeout_s: float | None = None) -> None:
        pass

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(0, np.uint64), np.zeros(0, np.uint64)

    def last(self) -> tuple[int, int]:
        return (0, 0)

    def over_budget(self) -> bool:
        return False

    def timed_out(self) -> bool:
        return False

    def detach(self) -> None:
        pass


#: Counting modes: "auto" (native if built, else Python), "native", "python", "none".
MODES = ("auto", "native", "python", "none")


def make_counter(uc: Uc, mode: str = "auto", code: tuple[int, int] = (0, 0)) -> BlockCounter:
    """A counter for ``mode``; "auto" falls back to Python when the extension is missing,
    saying so once. ``code`` is the (base, size) of the executable range, counted fastest."""
    global _warned
    if mode not in MODES:
        raise ArmsimError(f"counting mode {mode!r}; expected one of {MODES}")
    if mode == "none":
        return NoCounter(uc)
    if mode in ("auto", "native") and _native is not None:
        return NativeCounter(uc, code)
    if mode == "native":
        raise ToolchainError("the native block counter (armsim.machine._blockcount) was not "
                             "built: reinstall armsim with a C compiler, or count with 'python'")
    if mode == "auto" and not _warned:
        _warned = True
        print("armsim: native block counter not built; counting with a Python hook "
              "(exact, slower)", file=sys.stderr)
    return PythonCounter(uc, code)


def native_available() -> bool:
    """True when the C extension was built."""
    return _native is not None


