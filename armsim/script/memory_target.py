"""What a script runs against: the Target protocol, and a memory-only target (no CPU)."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from armsim.errors import ScriptError
from armsim.script.model import Script
from armsim.script.program import concat


class Target(Protocol):
    """What a script can do to a machine."""

    #: the program is the user's own image: names it lacks are errors, not warnings
    own_program: bool

    def write_batch(self, script: Script) -> None: ...
    def read(self, address: int, size: int) -> bytes: ...
    def set_reg(self, name: str, value: int) -> None: ...
    def get_reg(self, name: str) -> int: ...
    def symbol(self, name: str) -> tuple[int, int, bool] | None: ...
    def line_address(self, file: str, line: int) -> tuple[int, int] | None: ...
    def variable(self, name: str) -> tuple[int, Any] | None: ...
    def watch_hit(self) -> tuple[int, str, int] | None: ...
    def describe(self, address: int) -> str: ...
    def readable(self, address: int) -> bool: ...
    def load(self, path: str | None, options: tuple[str, ...], base_dir: str) -> str: ...
    def go(self, start: int | None, stop: int | None, breakpoints: set[int],
           watches: tuple[tuple[int, int, str], ...], max_steps: int | None
           ) -> tuple[int, str]: ...
    def reset(self) -> None: ...
    def states(self) -> float: ...
    def instructions(self) -> int: ...
    def call_return(self, pc: int) -> int | None: ...
    def clock_hz(self) -> float: ...
    def map_region(self, lo: int, hi: int, perms: str) -> str: ...
    def ensure_mapped(self, address: int, size: int) -> bool: ...
    def itm_text(self) -> str: ...
    def peripherals(self) -> list[str]: ...

class MemoryTarget:
    """A target with memory only: reads see earlier writes; CPU commands are refused."""

    own_program = False  # no program at all

    def __init__(self) -> None:
        self.log: list[Script] = []

    def write_batch(self, script: Script) -> None:
        self.log.append(script)

    def read(self, address: int, size: int) -> bytes:
        merged = concat("", self.log)
        vals = bytearray(size)
        have = [False] * size
        if len(merged):
            a, v, _ = merged.to_bytes()
            for i in range(size):
                sel = np.flatnonzero(a == address + i)
                if sel.size:
                    vals[i] = int(v[sel[-1]])
                    have[i] = True
        if not all(have):
            raise ScriptError(f"reads 0x{address:08X}, which nothing has written (no target "
                              "memory without the emulator)")
        return bytes(vals)

    def _cpu(self, what: str) -> ScriptError:
        return ScriptError(f"{what} needs the emulated CPU: run the script with "
                           "'armsim simulate --script' or 'armsim script check'")

    def set_reg(self, name: str, value: int) -> None:
        raise self._cpu(f"setting {name}")

    def get_reg(self, name: str) -> int:
        raise self._cpu(f"reading {name}")

    def symbol(self, name: str) -> tuple[int, int, bool] | None:
        return None

    def line_address(self, file: str, line: int) -> tuple[int, int] | None:
        return None

    def variable(self, name: str) -> tuple[int, Any] | None:
        return None

    def watch_hit(self) -> tuple[int, str, int] | None:
        return None

    def describe(self, address: int) -> str:
        return f"0x{address:08X}"

    def readable(self, address: int) -> bool:
        return True

    def load(self, path: str | None, options: tuple[str, ...], base_dir: str) -> str:
        raise self._cpu("LOAD")

    def go(self, start: int | None, stop: int | None, breakpoints: set[int],
           watches: tuple[tuple[int, int, str], ...], max_steps: int | None
           ) -> tuple[int, str]:
        raise self._cpu("G")

    def reset(self) -> None:
        raise self._cpu("RESET")

    def states(self) -> float:
        return 0.0

    def instructions(self) -> int:
        return 0

    def call_return(self, pc: int) -> int | None:
        return None

    def clock_hz(self) -> float:
        return 100e6

    def map_region(self, lo: int, hi: int, perms: str) -> str:
        raise self._cpu("MAP")

    def ensure_mapped(self, address: int, size: int) -> bool:
        return False

    def itm_text(self) -> str:
        return ""

    def peripherals(self) -> list[str]:
        return []
