"""A parsed script as a program: statements executed in order against a target.

Expressions are kept as small tuples and evaluated when the statement runs, so a read such
as ``_RDWORD(0x08000000)`` sees memory as it stands at that point of the script.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import numpy as np

from .model import Script, WriteKind

#: Core register names scripts may assign and read.
REGISTERS = {f"R{i}" for i in range(16)} | {"SP", "LR", "PC", "XPSR", "MSP"}
#: Other names of core registers, by the name the target knows them under.
REGISTER_ALIASES = {"MSP": "SP", "R13": "SP", "R14": "LR", "R15": "PC"}

#: ("int", v) | ("float", text) | ("name", text) | ("un", op, e) | ("bin", op, a, b)
#: | ("read", NAME, e); every node ends with its (line, col).
Expr = tuple


@dataclass(frozen=True)
class Loc:
    """Where a statement starts."""

    line: int
    col: int


@dataclass
class WriteBatch:
    """Consecutive writes whose addresses and values are constants."""

    script: Script


@dataclass
class Write:
    """A write whose address or value needs evaluating when it runs."""

    kind: WriteKind
    address: Expr
    value: Expr
    loc: Loc
    literal: str | None = None  # the value's text when it is a bare float literal


@dataclass
class SetReg:
    """``REG = expr``."""

    reg: str
    value: Expr
    loc: Loc


@dataclass
class Call:
    """``Name()``: run a FUNC defined earlier."""

    name: str
    loc: Loc


@dataclass
class FuncDef:
    """``FUNC void Name (void) { ... }``."""

    name: str
    body: list["Statement"]
    loc: Loc


@dataclass
class Load:
    """``LOAD %L [options]`` (path None) or ``LOAD path [options]``."""

    path: str | None
    options: tuple[str, ...]
    loc: Loc


@dataclass
class Go:
    """``G [start] [, stop]``: run the CPU, optionally from ``start``, until ``stop``."""

    start: Expr | None
    stop: Expr | None
    loc: Loc


@dataclass
class BreakSet:
    """``BS expr``: stop a later ``G`` when execution reaches this address."""

    where: Expr
    loc: Loc


@dataclass
class Print:
    """``printf("...")``: a message for the user."""

    text: str
    loc: Loc


@dataclass
class Sleep:
    """``_sleep_(ms)``: a delay on the real debugger; nothing to do in the emulator."""

    loc: Loc


Statement = Union[WriteBatch, Write, SetReg, Call, FuncDef, Load, Go, BreakSet, Print, Sleep]


@dataclass
class Program:
    """All statements of one script file, in order, and its source lines."""

    path: str
    lines: list[str]
    statements: list[Statement] = field(default_factory=list)

    def literal_writes(self) -> Script:
        """Every constant write, top level and inside FUNC bodies, in source order."""
        parts: list[Script] = []

        def walk(stmts: list[Statement]) -> None:
            for s in stmts:
                if isinstance(s, WriteBatch):
                    parts.append(s.script)
                elif isinstance(s, FuncDef):
                    walk(s.body)

        walk(self.statements)
        return concat(self.path, parts)

    @property
    def needs_cpu(self) -> bool:
        """True when the script sets registers, loads, runs or sets breakpoints."""
        def walk(stmts: list[Statement]) -> bool:
            for s in stmts:
                if isinstance(s, (SetReg, Load, Go, BreakSet)):
                    return True
                if isinstance(s, FuncDef) and walk(s.body):
                    return True
            return False

        return walk(self.statements)


def concat(path: str, parts: list[Script]) -> Script:
    """Join write columns, keeping source order."""
    if not parts:
        return Script(path)
    return Script(path,
                  np.concatenate([p.address for p in parts]),
                  np.concatenate([p.kind for p in parts]),
                  np.concatenate([p.bits for p in parts]),
                  np.concatenate([p.line for p in parts]),
                  max(p.lines_total for p in parts))
