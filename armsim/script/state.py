"""The script interpreter's state types: run log, breakpoints, call frames, unwinding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from armsim.errors import ScriptError
from armsim.script.arith import Num
from armsim.script.model import Script
from armsim.script.program import FuncDef, Program, Statement
from armsim.script.signals import Signal


class Unresolved(ScriptError):
    """A name or place the target does not have (a VTREG, a symbol of another ELF)."""

@dataclass
class RunLog:
    """What a script did: its writes (source order), notes and warnings for the user, the
    text of its LOG files, and what it did to unmodelled peripherals."""

    writes: Script
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)
    peripherals: list[str] = field(default_factory=list)


@dataclass
class Breakpoint:
    """A BS breakpoint: where, how it triggers, and how often it was hit."""

    number: int
    address: int
    access: str  # "exec", "read", "write", "readwrite"
    size: int
    count: int
    command: list[Statement] | None
    where: str  # "file:line"
    text: str
    enabled: bool = True
    hits: int = 0


class Unwind(Exception):
    """break, continue or return unwinding to the loop or call that handles it."""

    def __init__(self, kind: str, value: Num = 0) -> None:
        self.kind = kind
        self.value = value


class ExitScript(Exception):
    """EXIT: the rest of the script is not run."""


class Frame:
    """Local variables of one function call (or of the top level)."""

    def __init__(self, func: FuncDef | None, program: Program,
                 signal: Signal | None = None) -> None:
        self.func = func
        self.program = program
        self.vars: dict[str, list[Any]] = {}  # name -> [ctype, value]
        self.signal = signal
