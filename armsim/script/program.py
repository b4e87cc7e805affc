"""A parsed script as a program: statements executed in order against a target.

Expressions are kept as small tuples and evaluated when the statement runs, so a read such
as ``_RDWORD(0x08000000)`` sees memory as it stands at that point of the script. Every
statement records where it starts (:class:`Loc`, with its source file, so an INCLUDEd
file's errors name that file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import numpy as np

from armsim.script.model import Script, WriteKind

#: Core register names scripts may assign and read.
REGISTERS = {f"R{i}" for i in range(16)} | {"SP", "LR", "PC", "XPSR", "MSP", "PSP", "$",
                                             "CONTROL", "PRIMASK", "BASEPRI", "FAULTMASK",
                                             "FPSCR"}
#: Other names of core registers, by the name the target knows them under.
REGISTER_ALIASES = {"MSP": "SP", "R13": "SP", "R14": "LR", "R15": "PC", "$": "PC"}

#: Expression nodes; every node ends with its (line, col):
#: ("int", v) | ("float", text) | ("str", s) | ("name", text) | ("prog", text) (`name)
#: | ("loc", text) (\\module\func, \file\line) | ("un", op, e) | ("bin", op, a, b)
#: | ("cond", c, a, b) | ("assign", op, target, value) | ("incdec", op, target, prefix)
#: | ("call", NAME, name, args) | ("read", NAME, e) | ("cast", ctype, e) | ("deref", e)
#: | ("addr", e)
Expr = tuple
#: A C type: ("i", size, signed) | ("f", size) | ("p", ctype) | ("v",)
CType = tuple
INT: CType = ("i", 4, True)
UINT: CType = ("i", 4, False)


@dataclass(frozen=True)
class Loc:
    """Where a statement starts (in its own file: an INCLUDEd file is its own Program)."""

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
class ExprStmt:
    """An expression run for its effect: an assignment, a call, a discarded read."""

    expr: Expr
    loc: Loc


@dataclass
class Decl:
    """``int a, b = 1;`` in a function, or ``DEFINE int a`` (a debugger variable)."""

    names: list[tuple[str, CType, Expr | None]]
    loc: Loc
    debugger: bool = False


@dataclass
class If:
    """``if (cond) then else other``."""

    cond: Expr
    then: list["Statement"]
    other: list["Statement"]
    loc: Loc


@dataclass
class Loop:
    """``while``, ``for`` and ``do ... while`` as one: init; while cond: body; step."""

    init: list["Statement"]
    cond: Expr | None
    step: Expr | None
    body: list["Statement"]
    loc: Loc
    test_first: bool = True


@dataclass
class Jump:
    """``break``, ``continue`` or ``return [value]``."""

    kind: str
    value: Expr | None
    loc: Loc


@dataclass
class FuncDef:
    """``FUNC type Name (params) { ... }`` or ``SIGNAL void Name (params) { ... }``."""

    name: str
    body: list["Statement"]
    loc: Loc
    params: list[tuple[str, CType]] = field(default_factory=list)
    returns: CType = ("v",)
    signal: bool = False
    display: str = ""


@dataclass
class Load:
    """``LOAD %L [options]`` (path None) or ``LOAD path [options]``."""

    path: str | None
    options: tuple[str, ...]
    loc: Loc
    raw: str = ""


@dataclass
class Go:
    """``G [start] [, stop]``: run the CPU, optionally from ``start``, until ``stop``."""

    start: Expr | None
    stop: Expr | None
    loc: Loc


@dataclass
class Step:
    """``T [n]`` (step into) or ``P [n]`` (step over calls): n instructions."""

    kind: str
    count: Expr | None
    loc: Loc


@dataclass
class BreakSet:
    """``BS [READ|WRITE|READWRITE] expr [, count [, "command"]]``."""

    where: Expr
    loc: Loc
    count: Expr | None = None
    command: list["Statement"] | None = None
    access: str = "exec"
    text: str = ""


@dataclass
class BreakCmd:
    """``BK``/``BD``/``BE``/``BL`` with breakpoint numbers or ``*``."""

    kind: str
    items: list[int] | None  # None: all
    loc: Loc


@dataclass
class Command:
    """A command with a plain effect: ``RESET``, ``EXIT``, ``LOG``, ``MAP``, ``KILL``,
    ``SIGNAL KILL``, ``DEFINE BUTTON``, or a command with nothing to do in armsim (noted)."""

    name: str
    args: tuple
    loc: Loc
    text: str = ""


@dataclass
class Include:
    """``INCLUDE file``: that file's statements, run in place."""

    program: "Program"
    loc: Loc


Statement = Union[WriteBatch, Write, ExprStmt, Decl, If, Loop, Jump, FuncDef, Load, Go, Step,
                  BreakSet, BreakCmd, Command, Include]


@dataclass
class Program:
    """All statements of one script file, in order, and its source lines.

    Attributes:
        path: the script's file
        lines: its decoded lines
        statements: top-level statements in order
    """

    path: str
    lines: list[str]
    statements: list[Statement] = field(default_factory=list)

    def literal_writes(self) -> Script:
        """Every constant write, top level, INCLUDEd and inside FUNC bodies, in order."""
        parts: list[Script] = []

        def walk(stmts: list[Statement]) -> None:
            for s in stmts:
                if isinstance(s, WriteBatch):
                    parts.append(s.script)
                elif isinstance(s, FuncDef):
                    walk(s.body)
                elif isinstance(s, Include):
                    walk(s.program.statements)

        walk(self.statements)
        return concat(self.path, parts)


def map_ranges(program: Program) -> list[tuple[int, int, str]]:
    """Every ``MAP lo, hi perms`` of a program (its functions, INCLUDEs and exec strings
    too) as (lo, hi + 1, perms), in source order."""
    out: list[tuple[int, int, str]] = []

    def walk(stmts: list[Statement]) -> None:
        for s in stmts:
            if isinstance(s, Command) and s.name == "MAP" and s.args and \
                    s.args[2] != "clear":
                out.append((s.args[0], s.args[1] + 1, s.args[2]))
            elif isinstance(s, Command) and s.name == "EXEC":
                walk(s.args[0])
            elif isinstance(s, FuncDef):
                walk(s.body)
            elif isinstance(s, Include):
                walk(s.program.statements)
            elif isinstance(s, If):
                walk(s.then)
                walk(s.other)
            elif isinstance(s, Loop):
                walk(s.init)
                walk(s.body)

    walk(program.statements)
    return out


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
