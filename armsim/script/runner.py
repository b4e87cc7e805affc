"""Execute a parsed script against a target: plain memory, or the emulated CPU.

Every write passes the same checks before it reaches the target (alignment, mapped and
writable memory, inside a layout buffer unless allowed) and is logged with its line, so the
caller can check the whole script's writes against the layout afterwards.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..errors import ScriptError
from ..memory import MemoryMap
from ..plan import Plan
from .model import KIND_CODES, UNSIGNED_HIGH, Script
from .program import (REGISTER_ALIASES, REGISTERS, BreakSet, Call, Expr, FuncDef, Go, Load,
                      Print, Program, SetReg, Sleep, Statement, Write, WriteBatch, concat)
from .values import ValueRangeError, parse_float32

MAX_CALL_DEPTH = 32


class Target(Protocol):
    """What a script can do to a machine."""

    def write_batch(self, script: Script) -> None: ...
    def read(self, address: int, size: int) -> bytes: ...
    def set_reg(self, name: str, value: int) -> None: ...
    def get_reg(self, name: str) -> int: ...
    def symbol(self, name: str) -> int | None: ...
    def load(self, path: str | None, options: tuple[str, ...], base_dir: str) -> str: ...
    def go(self, start: int | None, stop: int | None) -> str: ...
    def breakpoint(self, address: int) -> None: ...


@dataclass
class RunLog:
    """What a script did: its writes (source order) and notes for the user."""

    writes: Script
    notes: list[str] = field(default_factory=list)


def _err(path: str, lines: list[str], line: int, col: int, message: str) -> ScriptError:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return ScriptError(message, path, line, col, text)


class _Env(Protocol):
    def read(self, address: int, size: int) -> bytes: ...
    def name(self, text: str, line: int, col: int) -> int: ...


def evaluate(e: Expr, env: _Env | None, path: str, lines: list[str]) -> int | float:
    """Evaluate an expression; reads and names need an environment."""
    kind = e[0]
    if kind == "int":
        return int(e[1])
    if kind == "float":
        return float(e[1].rstrip("fF"))
    line, col = e[-2], e[-1]
    if kind == "un":
        v = evaluate(e[2], env, path, lines)
        if e[1] == "-":
            return -v
        if e[1] == "~":
            if not isinstance(v, int):
                raise _err(path, lines, line, col, "operator '~' needs an integer")
            return ~v
        return v
    if kind == "bin":
        a = evaluate(e[2], env, path, lines)
        b = evaluate(e[3], env, path, lines)
        return _binary(e[1], a, b, path, lines, line, col)
    if env is None:
        raise _err(path, lines, line, col, "this value needs the target's memory or symbols")
    if kind == "read":
        addr = evaluate(e[2], env, path, lines)
        if not isinstance(addr, int) or not 0 <= addr < 1 << 32:
            raise _err(path, lines, line, col, f"{e[1]} address {addr!r} is not a 32-bit address")
        size = {"_RBYTE": 1, "_RWORD": 2, "_RDWORD": 4, "_RFLOAT": 4, "_RDOUBLE": 8}[e[1]]
        try:
            data = env.read(addr, size)
        except ScriptError as exc:
            raise _err(path, lines, line, col, f"{e[1]}(0x{addr:08X}) cannot read: "
                       f"{exc.reason}") from None
        if e[1] == "_RFLOAT":
            return float(np.frombuffer(data, "<f4")[0])
        if e[1] == "_RDOUBLE":
            return float(np.frombuffer(data, "<f8")[0])
        return int.from_bytes(data, "little")
    if kind == "name":
        return env.name(e[1], line, col)
    raise AssertionError(kind)


def _binary(o: str, a: int | float, b: int | float, path: str, lines: list[str], line: int,
            col: int) -> int | float:
    ints = isinstance(a, int) and isinstance(b, int)
    if o in ("|", "^", "&", "<<", ">>", "%") and not ints:
        raise _err(path, lines, line, col, f"operator '{o}' needs integers")
    if o == "+":
        return a + b
    if o == "-":
        return a - b
    if o == "*":
        return a * b
    if o in ("/", "%"):
        if b == 0:
            raise _err(path, lines, line, col, "division by zero")
        if ints:
            assert isinstance(a, int) and isinstance(b, int)
            q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)  # C truncation
            return q if o == "/" else a - q * b
        return a / b
    assert isinstance(a, int) and isinstance(b, int)
    if o in ("<<", ">>"):
        if not 0 <= b < 64:
            raise _err(path, lines, line, col, f"shift count {b} out of range 0..63")
        return a << b if o == "<<" else a >> b
    return a | b if o == "|" else a ^ b if o == "^" else a & b


def write_bits(w: Write, v: int | float, path: str, lines: list[str]) -> int:
    """The bits a write stores, or a ScriptError naming the value's problem."""
    kind = w.kind
    line, col = w.value[-2], w.value[-1]
    if kind.is_float:
        if w.literal is not None and kind.size == 4:
            try:
                f = parse_float32(w.literal)
            except ValueRangeError as e:
                raise _err(path, lines, line, col, f"{kind.name} value {w.literal} {e.args[1]}") \
                    from None
            return int(np.float32(f).view(np.uint32))
        if isinstance(v, int) and float(np.float32(v) if kind.size == 4 else float(v)) != v:
            raise _err(path, lines, line, col, f"{kind.name} value {v} is not exactly "
                       f"representable as float{8 * kind.size}")
        if not np.isfinite(float(v)):
            raise _err(path, lines, line, col, f"{kind.name} value {v!r} is not a finite number")
        if kind.size == 4:
            try:
                f = parse_float32(repr(float(v)))
            except (ValueRangeError, OverflowError) as e:
                why = e.args[1] if isinstance(e, ValueRangeError) else "overflows"
                raise _err(path, lines, line, col, f"{kind.name} value {v!r} {why}") from None
            return int(np.float32(f).view(np.uint32))
        if not np.isfinite(float(v)):
            raise _err(path, lines, line, col, f"{kind.name} value {v!r} is not finite")
        return struct.unpack("<Q", struct.pack("<d", float(v)))[0]
    if w.literal is not None or not isinstance(v, int):
        raise _err(path, lines, line, col, f"{kind.name} expects an integer value, found "
                   f"{w.literal or repr(v)}")
    width = 8 * kind.size
    if not -(1 << (width - 1)) <= v < 1 << width:
        raise _err(path, lines, line, col, f"{kind.name} value {v} does not fit {kind.size} byte(s)")
    bits = v & ((1 << width) - 1)
    return bits | UNSIGNED_HIGH if v >= 1 << (width - 1) else bits


class MemoryTarget:
    """A target with memory only: reads see earlier writes; CPU commands are refused."""

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

    def symbol(self, name: str) -> int | None:
        return None

    def load(self, path: str | None, options: tuple[str, ...], base_dir: str) -> str:
        raise self._cpu("LOAD")

    def go(self, start: int | None, stop: int | None) -> str:
        raise self._cpu("G")

    def breakpoint(self, address: int) -> None:
        raise self._cpu("BS")


class Runner:
    """Run a program's statements in order against a target."""

    def __init__(self, program: Program, target: Target, memory: MemoryMap | None = None,
                 layout: Plan | None = None, allow_outside: bool = False) -> None:
        self.program = program
        self.target = target
        self.memory = memory
        self.layout = layout
        self.allow_outside = allow_outside
        self.functions: dict[str, FuncDef] = {}
        self.log: list[Script] = []
        self.notes: list[str] = []
        self.depth = 0
        self.pages: set[int] = set()

    # environment for expressions
    def read(self, address: int, size: int) -> bytes:
        return self.target.read(address, size)

    def name(self, text: str, line: int, col: int) -> int:
        up = text.upper()
        if up in REGISTERS:
            return self.target.get_reg(REGISTER_ALIASES.get(up, up))
        addr = self.target.symbol(text)
        if addr is None:
            raise self.error(line, col, f"unknown symbol or register '{text}'")
        return addr

    def error(self, line: int, col: int, message: str) -> ScriptError:
        return _err(self.program.path, self.program.lines, line, col, message)

    def eval(self, e: Expr) -> int | float:
        return evaluate(e, self, self.program.path, self.program.lines)

    def eval_int(self, e: Expr, what: str) -> int:
        v = self.eval(e)
        if not isinstance(v, int) or not 0 <= v < 1 << 32:
            raise self.error(e[-2], e[-1], f"{what} must be a 32-bit unsigned integer, got {v!r}")
        return v

    # running
    def run(self) -> RunLog:
        """Execute every statement; return the writes (checked for conflicts) and notes."""
        from .check import check_conflicts

        self.exec(self.program.statements)
        writes = concat(self.program.path, self.log)
        try:
            check_conflicts(writes)
        except ScriptError as e:
            raise self.error(e.line, e.col, e.reason) from None
        return RunLog(writes, self.notes)

    def exec(self, stmts: list[Statement]) -> None:
        for s in stmts:
            try:
                self.exec_one(s)
            except ScriptError as e:
                if e.line or isinstance(s, WriteBatch):
                    raise
                raise self.error(s.loc.line, s.loc.col, e.reason) from None

    def exec_one(self, s: Statement) -> None:
        """Run one statement."""
        if isinstance(s, WriteBatch):
            self.write(s.script)
        elif isinstance(s, Write):
            addr = self.eval_int(s.address, f"{s.kind.name} address")
            bits = write_bits(s, self.eval(s.value), self.program.path, self.program.lines)
            self.write(Script(self.program.path, np.array([addr], np.int64),
                              np.array([KIND_CODES[s.kind.name]], np.int8),
                              np.array([bits], np.uint64),
                              np.array([s.loc.line], np.int32), len(self.program.lines)))
        elif isinstance(s, FuncDef):
            if s.name in self.functions:
                first = self.functions[s.name].loc.line
                raise self.error(s.loc.line, s.loc.col, f"function {s.name} is already "
                                 f"defined at line {first}")
            self.functions[s.name] = s
        elif isinstance(s, Call):
            f = self.functions.get(s.name)
            if f is None:
                raise self.error(s.loc.line, s.loc.col, f"function {s.name}() is not "
                                 "defined (a FUNC must come before its first call)")
            if self.depth >= MAX_CALL_DEPTH:
                raise self.error(s.loc.line, s.loc.col, f"calls nest deeper than "
                                 f"{MAX_CALL_DEPTH} (recursion in {s.name}?)")
            self.depth += 1
            try:
                self.exec(f.body)
            finally:
                self.depth -= 1
        elif isinstance(s, SetReg):
            self.target.set_reg(s.reg, self.eval_int(s.value, s.reg))
        elif isinstance(s, Load):
            import os

            base = os.path.dirname(os.path.abspath(self.program.path))
            try:
                self.notes.append(self.target.load(s.path, s.options, base))
            except ScriptError as e:
                raise self.error(s.loc.line, s.loc.col, e.reason) from None
        elif isinstance(s, Go):
            start = None if s.start is None else self.eval_int(s.start, "G start address")
            stop = None if s.stop is None else self.eval_int(s.stop, "G stop address")
            self.notes.append(f"line {s.loc.line}: " + self.target.go(start, stop))
        elif isinstance(s, BreakSet):
            self.target.breakpoint(self.eval_int(s.where, "BS address"))
        elif isinstance(s, Print):
            self.notes.append(f"line {s.loc.line}: printf: {s.text}")
        elif isinstance(s, Sleep):
            self.notes.append(f"line {s.loc.line}: _sleep_ has no effect in the emulator")

    def write(self, script: Script) -> None:
        from . import limits

        new = np.unique(script.address >> 12)
        if len(self.pages) + len(new) > limits.MAX_PAGES:
            fresh = [p for p in new.tolist() if p not in self.pages]
            if len(self.pages) + len(fresh) > limits.MAX_PAGES:
                over = fresh[limits.MAX_PAGES - len(self.pages)]
                i = int(np.flatnonzero((script.address >> 12) == over)[0])
                raise self.error(int(script.line[i]), 1, f"writes touch more than "
                                 f"{limits.MAX_PAGES:,} distinct 4 KiB pages (cap "
                                 "ARMSIM_SCRIPT_MAX_PAGES)")
        self.pages.update(new.tolist())
        if self.memory is not None:
            from .check import check_writes

            try:
                check_writes(script, self.memory, self.layout, self.allow_outside)
            except ScriptError as e:
                raise self.error(e.line, e.col, e.reason) from None
        self.target.write_batch(script)
        self.log.append(script)
