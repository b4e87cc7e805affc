"""Execute a parsed script against a target: plain memory, or the emulated CPU.

The interpreter of the debug-function language: FUNC calls with parameters and return
values, typed locals and debugger variables, C control flow, program variables, registers
and system variables (``states`` is armsim's cycle estimate), and µVision's commands. SIGNAL
functions run cooperatively on the estimated cycle clock (signals.py).

Every write passes the same checks before it reaches the target (alignment, mapped and
writable memory, inside a layout buffer unless allowed) and is logged with its line, so the
caller can check the whole script's writes against the layout afterwards. What a script
does that a reader would want to know about (SP set to 0, a breakpoint never hit, a FUNC
never called, ...) is a warning in the run log.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

from ..errors import EmulatorFault, ScriptError
from ..memory import MemoryMap
from ..plan import Plan
from . import arith, limits
from .arith import Fault, Num
from .lexer import show
from .model import KIND_CODES, KINDS, Script
from .program import (REGISTER_ALIASES, REGISTERS, UINT, BreakCmd, BreakSet, Command,
                      CType, Decl, Expr, ExprStmt, FuncDef, Go, If, Include, Jump, Load, Loop,
                      Program, Statement, Step, Write, WriteBatch, concat)
from .signals import Signal, SignalKilled

MAX_CALL_DEPTH = 32
READ_SIZES = {"_RBYTE": 1, "_RWORD": 2, "_RDWORD": 4, "_RFLOAT": 4, "_RDOUBLE": 8}
MATH = {"__SIN": math.sin, "__COS": math.cos, "__TAN": math.tan, "__ASIN": math.asin,
        "__ACOS": math.acos, "__ATAN": math.atan, "__SQRT": math.sqrt, "__EXP": math.exp,
        "__LOG": math.log, "__LOG10": math.log10, "__FABS": math.fabs, "__FLOOR": math.floor,
        "__CEIL": math.ceil, "__ABS": abs}
MATH2 = {"__POW": math.pow, "__ATAN2": math.atan2, "__FMOD": math.fmod}
#: Functions that ask the user for input: a script run by armsim has no one to answer.
INTERACTIVE = ("GETINT", "GETLONG", "GETFLOAT", "GETDBL")
SYSTEM = {"STATES", "_BREAK_", "_TRAPS_", "RADIX", "ITRACE", "CCLK", "SIM_CYCCNT", "_IIP_"}
_FORMAT = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?(hh|h|ll|l|L|z|j|t)?([diouxXeEfgGcsp%])")


class Unresolved(ScriptError):
    """A name or place the target does not have (a VTREG, a symbol of another ELF)."""


class Target(Protocol):
    """What a script can do to a machine."""

    def write_batch(self, script: Script) -> None: ...
    def read(self, address: int, size: int) -> bytes: ...
    def set_reg(self, name: str, value: int) -> None: ...
    def get_reg(self, name: str) -> int: ...
    def symbol(self, name: str) -> tuple[int, int, bool] | None: ...
    def line_address(self, file: str, line: int) -> tuple[int, int] | None: ...
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


class _Jump(Exception):
    def __init__(self, kind: str, value: Num = 0) -> None:
        self.kind = kind
        self.value = value


class _Exit(Exception):
    pass


class Frame:
    """Local variables of one function call (or of the top level)."""

    def __init__(self, func: FuncDef | None, program: Program,
                 signal: Signal | None = None) -> None:
        self.func = func
        self.program = program
        self.vars: dict[str, list[Any]] = {}  # name -> [ctype, value]
        self.signal = signal


class Runner:
    """Run a program's statements in order against a target.

    ``lenient`` (``script check``): a name, file or place the target cannot resolve (a
    VTREG, another ELF's symbol, a LOAD file that is not there) is a warning and the
    statement is skipped, instead of an error.
    """

    def __init__(self, program: Program, target: "Target", memory: MemoryMap | None = None,
                 layout: Plan | None = None, allow_outside: bool = False,
                 lenient: bool = False, peripherals: bool = True) -> None:
        self.program = program
        self.target = target
        self.memory = memory
        self.layout = layout
        self.allow_outside = allow_outside
        self.lenient = lenient
        self.use_peripherals = peripherals
        self.functions: dict[str, tuple[FuncDef, Program]] = {}
        self.called: set[str] = set()
        self.globals: dict[str, list[Any]] = {}
        self.log: list[Script] = []
        self.constant: list[Script] = []  # writes by _W... statements: checked for conflicts
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.logs: dict[str, list[str]] = {}
        self.log_to: str | None = None
        self.itm_log: str | None = None
        self.breakpoints: list[Breakpoint] = []
        self.next_bp = 0
        self.signals: list[Signal] = []
        self.depth = 0
        self.steps = 0
        self.pages: set[int] = set()
        self.break_flag = False
        self.rand_state = 1
        self.current: Signal | None = None
        self.last_periph_read: int | None = None
        self.skipped_load = False

    # -- errors and messages ----------------------------------------------------------------
    def error(self, program: Program, line: int, col: int, message: str,
              cls: type[ScriptError] = ScriptError) -> ScriptError:
        text = program.lines[line - 1] if 0 < line <= len(program.lines) else ""
        return cls(message, program.path, line, col, show(text))

    def where(self, program: Program, line: int) -> str:
        return f"line {line}" if program is self.program else \
            f"{os.path.basename(program.path)}:{line}"

    def note(self, program: Program, line: int, text: str) -> None:
        msg = f"{self.where(program, line)}: {text}"
        self.notes.append(msg)
        if self.log_to is not None:
            self.logs.setdefault(self.log_to, []).append(text)

    def warn(self, program: Program, line: int, text: str) -> None:
        self.warnings.append(f"{self.where(program, line)}: {text}")

    # -- running ----------------------------------------------------------------------------
    def run(self) -> RunLog:
        """Execute every statement; return the writes (checked for conflicts), notes and
        warnings."""
        from .check import check_conflicts

        top = Frame(None, self.program)
        top.vars = self.globals
        try:
            self.exec(self.program.statements, top)
        except _Exit:
            pass
        except _Jump as j:
            raise ScriptError(f"'{j.kind}' outside a loop or function", self.program.path)
        finally:
            for s in self.signals:
                s.kill()
        self.finish_warnings()
        writes = concat(self.program.path, self.log)
        try:
            check_conflicts(concat(self.program.path, self.constant))
        except ScriptError as e:
            raise self.error(self.program, e.line, e.col, e.reason) from None
        logs = {k: "\n".join(v) + "\n" for k, v in self.logs.items()}
        if self.itm_log is not None:
            logs[self.itm_log] = self.target_call(lambda: self.target.itm_text(), "")
        return RunLog(writes, self.notes, self.warnings, logs,
                      self.target_call(lambda: self.target.peripherals(), []))

    def target_call(self, f: Callable[[], Any], default: Any) -> Any:
        try:
            return f()
        except ScriptError:
            return default

    def finish_warnings(self) -> None:
        for bp in self.breakpoints:
            if bp.hits == 0:
                self.warnings.append(f"{bp.where}: breakpoint BS {bp.text} was never hit")
        for name, (f, prog) in self.functions.items():
            if name in self.called:
                continue
            if name == "ONRESETEXEC":
                self.warn(prog, f.loc.line, "OnResetExec() is defined but never ran (no RESET "
                          "in the script)")
            else:
                self.warn(prog, f.loc.line, f"{'SIGNAL' if f.signal else 'FUNC'} "
                          f"{f.display}() is defined but never called")

    def exec(self, stmts: list[Statement], frame: Frame) -> None:
        for s in stmts:
            self.steps += 1
            if self.steps > limits.MAX_STEPS:
                raise self.loop_error(frame.program, s)
            try:
                self.exec_one(s, frame)
            except Unresolved as e:
                if not self.lenient:
                    raise
                self.warnings.append(f"{self.where(frame.program, e.line)}: {e.reason}; "
                                     "statement skipped")
            except Fault as e:
                raise self.error(frame.program, e.line, e.col, e.reason) from None
            except ScriptError as e:
                if e.line or isinstance(s, WriteBatch):
                    raise
                loc = getattr(s, "loc")
                raise self.error(frame.program, loc.line, loc.col, e.reason) from None

    def steps_left(self) -> int:
        return limits.MAX_STEPS - self.steps

    def loop_error(self, program: Program, s: Statement) -> ScriptError:
        loc = getattr(s, "loc", None)
        line = loc.line if loc is not None else 0
        why = ""
        if self.last_periph_read is not None:
            from ..peripherals import guess

            name = guess(self.last_periph_read)
            why = (f"; it last read 0x{self.last_periph_read:08X}, an unmodelled peripheral"
                   f"{f' ({name}?)' if name else ''} that only returns what was written: a wait "
                   "for hardware armsim does not model")
        return self.error(program, line, 1, f"the script ran more than {limits.MAX_STEPS:,} "
                          f"statements (an endless loop?){why} (cap ARMSIM_SCRIPT_MAX_STEPS)")

    def exec_one(self, s: Statement, frame: Frame) -> None:
        """Run one statement."""
        prog = frame.program
        if isinstance(s, WriteBatch):
            self.write(s.script, prog)
            self.constant.append(s.script)
        elif isinstance(s, ExprStmt):
            self.eval(s.expr, frame)
        elif isinstance(s, Write):
            addr = self.eval_addr(s.address, frame, f"{s.kind.name} address")
            bits = arith.write_bits(s.kind, s.literal, self.eval(s.value, frame), s.value)
            self.constant.append(self.write_one(addr, s.kind.name, bits, s.loc.line, prog))
        elif isinstance(s, Decl):
            scope = self.globals if s.debugger else frame.vars
            for name, ct, init in s.names:
                v = 0 if init is None else self.convert(self.eval(init, frame), ct, init)
                scope[name] = [ct, v]
        elif isinstance(s, If):
            self.exec(s.then if self.truth(s.cond, frame) else s.other, frame)
        elif isinstance(s, Loop):
            self.loop(s, frame)
        elif isinstance(s, Jump):
            raise _Jump(s.kind, 0 if s.value is None else self.eval(s.value, frame))
        elif isinstance(s, FuncDef):
            if s.name in self.functions:
                first = self.functions[s.name][0].loc.line
                self.note(prog, s.loc.line, f"{s.display}() redefined (first defined at line "
                          f"{first})")
            self.functions[s.name] = (s, prog)
        elif isinstance(s, Include):
            self.exec(s.program.statements, self._include_frame(s.program))
        elif isinstance(s, Load):
            self.load(s, prog)
        elif isinstance(s, Go):
            self.go(s, frame)
        elif isinstance(s, Step):
            self.step(s, frame)
        elif isinstance(s, BreakSet):
            self.break_set(s, frame)
        elif isinstance(s, BreakCmd):
            self.break_cmd(s, prog)
        elif isinstance(s, Command):
            self.command(s, frame)

    def _include_frame(self, program: Program) -> Frame:
        f = Frame(None, program)
        f.vars = self.globals
        return f

    def loop(self, s: Loop, frame: Frame) -> None:
        self.exec(s.init, frame)
        first = True
        while True:
            if (s.test_first or not first) and s.cond is not None and \
                    not self.truth(s.cond, frame):
                return
            first = False
            self.steps += 1
            if self.steps > limits.MAX_STEPS:
                raise self.loop_error(frame.program, s)
            try:
                self.exec(s.body, frame)
            except _Jump as j:
                if j.kind == "break":
                    return
                if j.kind != "continue":
                    raise
            if s.step is not None:
                self.eval(s.step, frame)

    # -- expressions ------------------------------------------------------------------------
    def truth(self, e: Expr, frame: Frame) -> bool:
        return bool(self.eval(e, frame))

    def convert(self, v: Num, ct: CType, at: Expr) -> Num:
        try:
            return arith.convert(v, ct)
        except ValueError as exc:
            raise arith.fault(at, str(exc)) from None

    def eval_addr(self, e: Expr, frame: Frame, what: str) -> int:
        v = self.eval(e, frame)
        if not isinstance(v, int) or not 0 <= v < 1 << 32:
            raise arith.fault(e, f"{what} must be a 32-bit unsigned integer, got {v!r}")
        return v

    def eval(self, e: Expr, frame: Frame) -> Num:
        """Evaluate an expression."""
        kind = e[0]
        if kind == "int":
            return int(e[1])
        if kind == "float":
            return float(e[1].rstrip("fF"))
        if kind == "bin":
            op = e[1]
            if op == "&&":
                return int(self.truth(e[2], frame) and self.truth(e[3], frame))
            if op == "||":
                return int(self.truth(e[2], frame) or self.truth(e[3], frame))
            return arith.binary(op, self.eval(e[2], frame), self.eval(e[3], frame), e)
        if kind == "un":
            return arith.unary(e[1], self.eval(e[2], frame), e)
        if kind == "name" or kind == "prog":
            return self.load_name(e, frame)
        if kind == "read":
            addr = self.eval_addr(e[2], frame, f"{e[1]} address")
            ct = {"_RFLOAT": ("f", 4), "_RDOUBLE": ("f", 8)}.get(e[1], ("i", READ_SIZES[e[1]],
                                                                         False))
            return self.read_typed(addr, ct, e, e[1])
        if kind == "call":
            return self.call(e, frame)
        if kind == "assign":
            return self.assign(e, frame)
        if kind == "incdec":
            old = self.eval(e[2], frame)
            new = old + (1 if e[1] == "++" else -1)
            stored = self.store(e[2], new, frame, e)
            return stored if e[3] else old
        if kind == "cond":
            return self.eval(e[2] if self.truth(e[1], frame) else e[3], frame)
        if kind == "cast":
            v = self.eval(e[2], frame)
            return self.convert(v, e[1] if e[1][0] != "p" else UINT, e)
        if kind == "deref":
            addr = self.eval_addr(e[1], frame, "pointer")
            return self.read_typed(addr, self.pointee(e[1], frame), e, "*")
        if kind == "addr":
            return self.address_of(e[1], frame, e)
        if kind == "loc":
            return self.place(e)
        if kind == "str":
            raise arith.fault(e, "a string is not a value here (only printf and exec take "
                              "strings)")
        raise AssertionError(kind)

    def read_typed(self, addr: int, ct: CType, at: Expr, what: str) -> Num:
        size = arith.type_size(ct)
        if self.use_peripherals:
            self.target.ensure_mapped(addr, size)
        try:
            data = self.target.read(addr, size)
        except ScriptError as exc:
            raise arith.fault(at, f"{what}(0x{addr:08X}) cannot read: {exc.reason}") from None
        if self.unmodelled(addr):
            self.last_periph_read = addr
        return arith.from_bytes(ct, data)

    def unmodelled(self, addr: int) -> bool:
        if self.memory is None:
            return False
        r = self.memory.find(addr, 1)
        return r is not None and r.name == "unmodelled"

    def pointee(self, e: Expr, frame: Frame) -> CType:
        """The type a pointer expression points to (unsigned int when it does not say)."""
        if e[0] == "cast" and e[1][0] == "p":
            return e[1][1]
        if e[0] == "name" and e[1] in frame.vars and frame.vars[e[1]][0][0] == "p":
            return frame.vars[e[1]][0][1]
        if e[0] == "name" and e[1] in self.globals and self.globals[e[1]][0][0] == "p":
            return self.globals[e[1]][0][1]
        return UINT

    def variable(self, name: str, frame: Frame) -> list[Any] | None:
        if name in frame.vars:
            return frame.vars[name]
        return self.globals.get(name)

    def load_name(self, e: Expr, frame: Frame) -> Num:
        name = e[1]
        if e[0] == "name":
            var = self.variable(name, frame)
            if var is not None:
                return var[1]
            up = name.upper()
            if up in REGISTERS:
                return self.target.get_reg(REGISTER_ALIASES.get(up, up))
            if up in SYSTEM:
                return self.system(up, e)
        sym = self.target.symbol(name)
        if sym is None:
            raise self.unknown(e, frame)
        address, size, is_function = sym
        if is_function or size not in (1, 2, 4, 8):
            return address  # a function or an array: its address, as in C
        return self.read_typed(address, ("i", size, False), e, name)

    def unknown(self, e: Expr, frame: Frame) -> ScriptError:
        name = e[1]
        what = ("a symbol of the ELF" if e[0] == "prog" else
                "a variable, register, system variable or symbol of the ELF")
        return self.error(frame.program, e[-2], e[-1],
                          f"unknown symbol or register '{name}': not {what} (a symbol of "
                          "another program, or a VTREG of a device peripheral, which armsim "
                          "cannot drive?)", Unresolved)

    def system(self, up: str, e: Expr) -> Num:
        if up in ("STATES", "SIM_CYCCNT"):
            return int(self.target.states())
        if up == "CCLK":
            return int(self.target.clock_hz())
        if up == "_BREAK_":
            return int(self.break_flag)
        return 0  # _traps_, itrace, _IIP_: off; radix 10 is handled by the parser

    def address_of(self, target: Expr, frame: Frame, at: Expr) -> int:
        if target[0] in ("name", "prog"):
            if target[0] == "name" and self.variable(target[1], frame) is not None:
                raise arith.fault(at, f"'&{target[1]}': a debugger variable has no address in "
                                  "target memory")
            sym = self.target.symbol(target[1])
            if sym is None:
                raise self.unknown(target, frame)
            return sym[0]
        if target[0] == "deref":
            return self.eval_addr(target[1], frame, "pointer")
        raise arith.fault(at, "'&' needs a program variable")

    def place(self, e: Expr) -> int:
        """``\\\\module\\func``, ``\\\\module\\file.c\\line`` or ``\\file.c\\line``: an address."""
        text = e[1]
        parts = [p for p in text.lstrip("\\").split("\\") if p]
        if text.startswith("\\\\"):
            parts = parts[1:]  # the module (the ELF) name
        if parts and parts[-1].isdigit() and len(parts) >= 2:
            found = self.target.line_address(parts[-2], int(parts[-1]))
            if found is None:
                raise Unresolved(f"{text}: line {parts[-1]} of {parts[-2]} has no code in the "
                                 "ELF's line table (built without -g, or another program?)",
                                 "", e[-2], e[-1])
            return found[0]
        if len(parts) == 1:
            sym = self.target.symbol(parts[0])
            if sym is not None:
                return sym[0]
        raise Unresolved(f"{text}: no function '{parts[-1] if parts else text}' in the ELF",
                         "", e[-2], e[-1])

    # -- assignment -------------------------------------------------------------------------
    def assign(self, e: Expr, frame: Frame) -> Num:
        op, target, value = e[1], e[2], e[3]
        v = self.eval(value, frame)
        if op != "=":
            v = arith.binary(op[:-1], self.eval(target, frame), v, e)
        return self.store(target, v, frame, e)

    def store(self, target: Expr, v: Num, frame: Frame, at: Expr) -> Num:
        """Store ``v`` into a variable, register, system variable or memory; the value."""
        prog = frame.program
        if target[0] == "name":
            var = self.variable(target[1], frame)
            if var is not None:
                var[1] = self.convert(v, var[0], at)
                return var[1]
            up = target[1].upper()
            if up in REGISTERS:
                return self.set_register(REGISTER_ALIASES.get(up, up), v, at, prog)
            if up in SYSTEM:
                return self.set_system(up, v, at, prog)
        if target[0] == "deref":
            addr = self.eval_addr(target[1], frame, "pointer")
            ct = self.pointee(target[1], frame)
            return self.store_typed(addr, ct, v, at, prog)
        sym = self.target.symbol(target[1])
        if sym is None:
            raise self.unknown(target, frame)
        address, size, is_function = sym
        if is_function or size not in (1, 2, 4, 8):
            raise arith.fault(at, f"cannot assign to '{target[1]}': it is a function or an "
                              "array in the ELF")
        return self.store_typed(address, ("i", size, False), v, at, prog)

    def store_typed(self, addr: int, ct: CType, v: Num, at: Expr, prog: Program) -> Num:
        size = arith.type_size(ct)
        kind = {1: "_WBYTE", 2: "_WWORD", 4: "_WFLOAT" if ct[0] == "f" else "_WDWORD",
                8: "_WDOUBLE" if ct[0] == "f" else ""}[size]
        if not kind:
            raise arith.fault(at, "64-bit integer stores are not supported")
        value = self.convert(v, ct, at)
        bits = arith.type_bits(ct, value)
        self.write_one(addr, kind, bits, at[-2], prog)
        return value

    def set_register(self, name: str, v: Num, at: Expr, prog: Program) -> int:
        if not isinstance(v, int):
            raise arith.fault(at, f"{name} needs an integer, got {v!r}")
        if not -(1 << 31) <= v < 1 << 32:
            raise arith.fault(at, f"{name} must be a 32-bit value, got {v}")
        value = v & 0xFFFFFFFF
        if name in ("SP", "PC", "PSP") and (value == 0 or not self.target.readable(value - (
                4 if name != "PC" and value else 0))):
            why = " (read from an empty vector table?)" if value == 0 else \
                ", outside readable memory (a mistyped address?)"
            self.warn(prog, at[-2], f"{name} set to 0x{value:08X}{why}: the next G "
                      f"{'faults' if name == 'PC' else 'pushes into nothing'}")
        self.target.set_reg(name, value)
        return value

    def set_system(self, up: str, v: Num, at: Expr, prog: Program) -> Num:
        if up == "_BREAK_":
            self.break_flag = bool(v)
            return int(bool(v))
        if up in ("STATES", "SIM_CYCCNT"):
            raise arith.fault(at, f"{up.lower()} is read-only (armsim's cycle estimate)")
        if up == "CCLK":
            self.note(prog, at[-2], f"CCLK = {v}: armsim's clock for swatch() stays "
                      f"{self.target.clock_hz() / 1e6:g} MHz (the MCU preset's)")
            return v
        self.note(prog, at[-2], f"{up.lower()} = {v}: no effect in armsim")
        return v

    # -- calls ------------------------------------------------------------------------------
    def call(self, e: Expr, frame: Frame) -> Num:
        up, name, args = e[1], e[2], e[3]
        prog = frame.program
        if up in self.functions:
            f, fprog = self.functions[up]
            if len(args) != len(f.params):
                raise arith.fault(e, f"{f.display}() takes {len(f.params)} argument(s), "
                                  f"got {len(args)}")
            values = [self.convert(self.eval(a, frame), ct, a) for a, (_, ct) in
                      zip(args, f.params)]
            self.called.add(up)
            if f.signal:
                return self.start_signal(f, fprog, values, e, prog)
            return self.invoke(f, fprog, values, e, frame.signal)
        if up in KINDS:
            if len(args) != 2:
                raise arith.fault(e, f"{name} takes (address, value)")
            addr = self.eval_addr(args[0], frame, f"{name} address")
            bits = arith.write_bits(KINDS[up], None, self.eval(args[1], frame), args[1])
            self.write_one(addr, up, bits, e[-2], prog)
            return 0
        if up == "PRINTF":
            text = self.printf(e, args, frame)
            self.note(prog, e[-2], f"printf: {text.rstrip(chr(10))}")
            return len(text)
        if up == "_SLEEP_":
            self.note(prog, e[-2], "_sleep_ has no effect in the emulator")
            return 0
        if up in ("TWATCH", "SWATCH"):
            return self.watch(up, e, args, frame)
        if up in ("RWATCH", "WWATCH"):
            raise Unresolved(f"{name}() waits for the program to {'read' if up == 'RWATCH' else 'write'}"
                             " an address: armsim wakes signals on the cycle clock only "
                             "(twatch, swatch)", "", e[-2], e[-1])
        if up in MATH or up in MATH2:
            want = 1 if up in MATH else 2
            if len(args) != want:
                raise arith.fault(e, f"{name} takes {want} argument(s)")
            vals = [float(self.eval(a, frame)) for a in args]
            try:
                return (MATH.get(up) or MATH2[up])(*vals)  # type: ignore[operator]
            except (ValueError, OverflowError) as exc:
                raise arith.fault(e, f"{name}{tuple(vals)}: {exc}") from None
        if up == "RAND":
            if args:
                seed = self.eval(args[0], frame)
                if seed:
                    self.rand_state = int(seed) & 0x7FFFFFFF
            self.rand_state = (self.rand_state * 1103515245 + 12345) & 0x7FFFFFFF
            return (self.rand_state >> 16) & 0x7FFF
        if up == "MEMSET":
            if len(args) != 3:
                raise arith.fault(e, "memset takes (address, length, value)")
            addr = self.eval_addr(args[0], frame, "memset address")
            n = self.eval_addr(args[1], frame, "memset length")
            v = self.convert(self.eval(args[2], frame), ("i", 1, False), args[2])
            if n:
                self.write(Script(prog.path, np.arange(addr, addr + n, dtype=np.int64),
                                  np.full(n, KIND_CODES["_WBYTE"], np.int8),
                                  np.full(n, v, np.uint64), np.full(n, e[-2], np.int32),
                                  len(prog.lines)), prog)
            return 0
        if up in INTERACTIVE:
            raise arith.fault(e, f"{name}() asks the user for input; armsim runs scripts "
                              "unattended (set the value in the script)")
        if up == "EXEC":
            raise arith.fault(e, "exec(\"...\") is a statement of its own")
        if up == "_TASKRUNNING_":
            raise Unresolved(f"{name}() needs the RTOS awareness of µVision's debugger, which "
                             "armsim does not model", "", e[-2], e[-1])
        raise self.error(prog, e[-2], e[-1], f"function {name}() is not defined (a FUNC "
                         "must come before its first call)")

    def invoke(self, f: FuncDef, fprog: Program, values: list[Num], at: Expr,
               signal: Signal | None) -> Num:
        if self.depth >= MAX_CALL_DEPTH:
            raise arith.fault(at, f"calls nest deeper than {MAX_CALL_DEPTH} (recursion in "
                              f"{f.display}?)")
        inner = Frame(f, fprog, signal)
        for (pname, ct), v in zip(f.params, values):
            inner.vars[pname] = [ct, v]
        self.depth += 1
        try:
            self.exec(f.body, inner)
        except _Jump as j:
            if j.kind != "return":
                raise self.error(fprog, f.loc.line, f.loc.col, f"'{j.kind}' outside a loop "
                                 f"in {f.display}()") from None
            return 0 if f.returns == ("v",) else self.convert(j.value, f.returns, at)
        finally:
            self.depth -= 1
        return 0

    def printf(self, e: Expr, args: tuple, frame: Frame) -> str:
        if not args or args[0][0] != "str":
            raise arith.fault(e, "printf needs a format \"string\" first")
        fmt = args[0][1]
        values = [self.eval(a, frame) if a[0] != "str" else a[1] for a in args[1:]]
        out: list[str] = []
        pos = 0
        for m in _FORMAT.finditer(fmt):
            out.append(fmt[pos:m.start()])
            pos = m.end()
            flags, width, prec, _, conv = m.groups()
            if conv == "%":
                out.append("%")
                continue
            if width == "*" or prec == "*":
                raise arith.fault(e, "printf: '*' widths are not supported")
            if not values:
                raise arith.fault(e, f"printf: format '{fmt}' needs more arguments than given")
            v = values.pop(0)
            spec = "%" + flags + (width or "") + (f".{prec}" if prec is not None else "")
            if isinstance(v, str) != (conv == "s"):
                raise arith.fault(e, f"printf: %{conv} needs "
                                  f"{'a string' if conv == 's' else 'a number'}, got {v!r}")
            if conv in "diouxXc" and isinstance(v, float):
                if not math.isfinite(v):
                    raise arith.fault(e, f"printf: %{conv} of {v}")
                v = int(v)
            if conv == "u":
                conv, v = "d", int(v) & 0xFFFFFFFF  # type: ignore[arg-type]
            elif conv in "xXo" and isinstance(v, int) and v < 0:
                v &= 0xFFFFFFFF
            elif conv == "p":
                conv, v = "X", int(v) & 0xFFFFFFFF  # type: ignore[arg-type]
                spec = "0x%08"
            elif conv in "eEfgG":
                v = float(v)  # type: ignore[arg-type]
            try:
                out.append((spec + conv) % v)
            except (TypeError, ValueError, OverflowError) as exc:
                raise arith.fault(e, f"printf: cannot format {v!r} with %{conv}: {exc}") \
                    from None
        out.append(fmt[pos:])
        if values:
            raise arith.fault(e, f"printf: {len(values)} argument(s) more than the format uses")
        return "".join(out)

    # -- signals ----------------------------------------------------------------------------
    def start_signal(self, f: FuncDef, fprog: Program, values: list[Num], at: Expr,
                     prog: Program) -> int:
        running = [s for s in self.signals if s.name == f.display and not s.done]
        if running:
            raise arith.fault(at, f"signal {f.display}() is already running")
        sig = Signal(f.display, lambda s: self.invoke(f, fprog, values, at, s))
        self.signals.append(sig)
        self.note(prog, at[-2], f"signal {f.display}() started")
        self.resume_signal(sig)
        return 0

    def resume_signal(self, sig: Signal) -> None:
        saved = self.current
        self.current = sig
        try:
            sig.step()
        except SignalKilled:
            pass
        except Unresolved as e:
            if not self.lenient:
                raise
            self.warnings.append(f"signal {sig.name}: {e.reason}; signal stopped")
        finally:
            self.current = saved

    def watch(self, up: str, e: Expr, args: tuple, frame: Frame) -> int:
        sig = frame.signal
        if sig is None:
            raise arith.fault(e, f"{up.lower()}() waits inside a SIGNAL function only")
        if len(args) != 1:
            raise arith.fault(e, f"{up.lower()} takes one argument")
        v = float(self.eval(args[0], frame))
        cycles = v if up == "TWATCH" else v * self.target.clock_hz()
        if not cycles >= 0 or not math.isfinite(cycles):
            raise arith.fault(e, f"{up.lower()}({v:g}): expected a time >= 0")
        sig.wait_until(self.target.states() + cycles)
        return 0

    def due_signals(self) -> list[Signal]:
        return [s for s in self.signals if not s.done]

    # -- commands ---------------------------------------------------------------------------
    def load(self, s: Load, prog: Program) -> None:
        base = os.path.dirname(os.path.abspath(prog.path))
        key = s.raw.strip('"')[:2].upper() if s.path is not None else ""
        if key in ("$P", "$L"):
            self.note(prog, s.loc.line, f"LOAD {s.raw}: {key} (the project folder in µVision) "
                      f"is taken as the script's folder: {base}")
        try:
            self.note(prog, s.loc.line, self.target.load(s.path, s.options, base))
        except ScriptError as e:
            if self.lenient and s.path is not None and any(
                    w in e.reason for w in ("file not found", "outside the script's folder",
                                            "absolute paths are refused")):
                self.skipped_load = True
                self.warn(prog, s.loc.line, f"{e.reason}: not loaded; the set-up goes on with "
                          "the simulated ELF (%L), so that file's symbols do not resolve")
                return
            raise self.error(prog, s.loc.line, s.loc.col, e.reason) from None

    def go(self, s: Go, frame: Frame) -> None:
        prog = frame.program
        start = None if s.start is None else self.eval_addr(s.start, frame, "G start address")
        stop = None if s.stop is None else self.eval_addr(s.stop, frame, "G stop address")
        self.break_flag = False
        try:
            pc, why = self.run_until(start, stop, frame, prog, s.loc.line)
        except EmulatorFault as e:
            text = prog.lines[s.loc.line - 1].strip() if 0 < s.loc.line <= len(prog.lines) \
                else "G"
            first = e.args[0].splitlines()[0]
            if self.lenient:  # someone's own set-up on another program: report, go on
                self.warn(prog, s.loc.line, f"the run started by '{text}' faulted: {first}"
                          + ("; the program this script loads was not loaded, so the run "
                             "was of the simulated ELF" if self.skipped_load else ""))
                return
            raise EmulatorFault(e.kind, f"{prog.path}:{s.loc.line}: the run started by "
                                f"'{text}' faulted: {first}", e.pc, e.function,
                                e.report) from None
        desc = self.target.describe(pc)
        self.note(prog, s.loc.line, f"G stopped at {desc} ({why})")
        if stop is not None and pc != stop & ~1:
            self.warn(prog, s.loc.line, f"G, {self.target.describe(stop)} ended at {desc} "
                      f"({why}), not at {self.target.describe(stop)}")

    def run_until(self, start: int | None, stop: int | None, frame: Frame, prog: Program,
                  line: int) -> tuple[int, str]:
        """Run the CPU, interleaving signals on the cycle clock and handling breakpoint
        counts and commands; (where it stopped, why)."""
        cpi = 4.0  # cycles per instruction, learnt from each slice
        last: tuple[int, float] | None = None
        while True:
            live = self.due_signals()
            steps = None
            if live:
                now = self.target.states()
                done = self.target.instructions()
                if last is not None and done > last[0]:
                    cpi = max(1.0, (now - last[1]) / (done - last[0]))
                last = (done, now)
                wake = min(s.wake for s in live)
                if wake <= now:
                    for s in live:
                        if s.wake <= now:
                            self.resume_signal(s)
                    if self.break_flag:
                        return self.target.get_reg("PC"), "_break_ set by a signal"
                    continue
                # run the instructions the cycles left should take at a pessimistic
                # rate, and so close in on the wake-up without passing it by much
                steps = max(1, min(int((wake - now) / (cpi * 1.5)), 1 << 30))
            exec_bps = {b.address & ~1 for b in self.breakpoints
                        if b.enabled and b.access == "exec"}
            watches = tuple((b.address, b.address + b.size, b.access) for b in self.breakpoints
                            if b.enabled and b.access != "exec")
            pc, why = self.target.go(start, stop, exec_bps, watches, steps)
            start = None
            if why == "steps":
                if pc == (stop if stop is not None else -1) & ~1:
                    return pc, "stop address"
                if pc not in exec_bps:
                    continue
                why = "breakpoint"
            if why == "halt" and pc in exec_bps:
                why = "breakpoint"  # a breakpoint on the halt is hit by reaching it
            if why in ("breakpoint", "watch"):
                bp = self.hit_breakpoint(pc, why)
                if bp is None:
                    return pc, why
                bp.hits += 1
                if bp.hits < bp.count:
                    continue
                if bp.command is not None:
                    self.break_flag = False
                    self.exec(bp.command, self._include_frame(prog))
                    if not self.break_flag:
                        continue
                return pc, f"breakpoint {bp.number} ({bp.text})"
            return pc, {"stop": "stop address", "halt": "end of the program",
                        "exit": "the program exited"}.get(why, why)

    def hit_breakpoint(self, pc: int, why: str) -> Breakpoint | None:
        for b in self.breakpoints:
            if not b.enabled:
                continue
            if why == "breakpoint" and b.access == "exec" and b.address & ~1 == pc:
                return b
            if why == "watch" and b.access != "exec":
                return b
        return None

    def step(self, s: Step, frame: Frame) -> None:
        n = 1 if s.count is None else self.eval_addr(s.count, frame, f"{s.kind} count")
        done = 0
        pc = self.target.get_reg("PC")
        if s.kind == "T" and n:  # step into: n instructions in one run
            before = self.target.instructions()
            pc, why = self.target.go(None, None, set(), (), min(n, 1 << 30))
            done = self.target.instructions() - before
        while s.kind == "P" and done < n:  # step over: a call runs to its return
            if self.steps_left() <= 0:
                raise self.loop_error(frame.program, s)
            self.steps += 1
            call = self.target.call_return(pc)
            pc, why = self.target.go(None, call, set(), (), None if call else 1)
            done += 1
            if why not in ("steps", "stop"):
                break
        self.note(frame.program, s.loc.line, f"{s.kind} {n}: {done} instruction(s), now at "
                  f"{self.target.describe(pc)}")

    def break_set(self, s: BreakSet, frame: Frame) -> None:
        prog = frame.program
        size = 4
        if s.access != "exec" and s.where[0] in ("name", "prog"):
            sym = self.target.symbol(s.where[1])
            if sym is None:
                raise self.unknown(s.where, frame)
            addr, size = sym[0], max(1, sym[1] if sym[1] else 4)
        else:
            if s.access == "exec" and s.where[0] == "bin" and s.where[1] in (
                    "==", "!=", "<", ">", "<=", ">=", "&&", "||"):
                raise arith.fault(s.where, "conditional breakpoints (BS expression) are not "
                                  "supported: give an address, symbol or \\file\\line")
            addr = self.eval_addr(s.where, frame, "BS address")
        count = 1 if s.count is None else self.eval_addr(s.count, frame, "BS count")
        self.next_bp += 1
        bp = Breakpoint(self.next_bp - 1, addr, s.access, size, max(count, 1), s.command,
                        self.where(prog, s.loc.line), s.text)
        self.breakpoints.append(bp)

    def break_cmd(self, s: BreakCmd, prog: Program) -> None:
        chosen = [b for b in self.breakpoints if s.items is None or b.number in s.items]
        if s.kind == "BL":
            text = "; ".join(f"{b.number}: {b.text} at 0x{b.address:08X}"
                             f"{'' if b.enabled else ' (disabled)'}, hit {b.hits}"
                             for b in self.breakpoints) or "no breakpoints"
            self.note(prog, s.loc.line, f"BL: {text}")
        elif s.kind == "BK":
            for b in chosen:
                if b.hits == 0:
                    self.warnings.append(f"{b.where}: breakpoint BS {b.text} was killed "
                                         "without being hit")
                self.breakpoints.remove(b)
        else:
            for b in chosen:
                b.enabled = s.kind == "BE"

    def command(self, s: Command, frame: Frame) -> None:
        prog = frame.program
        line = s.loc.line
        name = s.name
        if name == "EXEC":
            self.exec(s.args[0], frame)
        elif name == "EXIT":
            self.note(prog, line, "EXIT: the rest of the script is not run")
            raise _Exit()
        elif name == "RESET":
            self.target.reset()
            self.note(prog, line, "RESET: CPU reset")
            if "ONRESETEXEC" in self.functions:
                self.called.add("ONRESETEXEC")
                f, fprog = self.functions["ONRESETEXEC"]
                self.invoke(f, fprog, [], ("int", 0, line, s.loc.col), None)
        elif name == "EVAL":
            v = self.eval(s.args[0], frame)
            shown = f"{v} (0x{v & 0xFFFFFFFF:08X})" if isinstance(v, int) else f"{v:g}"
            self.note(prog, line, f"{s.text or 'EVAL'} = {shown}")
        elif name == "ENTER":
            ct, address, values = s.args
            addr = self.eval_addr(address, frame, "E address")
            for i, ve in enumerate(values):
                self.store_typed(addr + i * arith.type_size(ct), ct, self.eval(ve, frame),
                                 ve, prog)
        elif name == "MAP":
            if not s.args:
                self.note(prog, line, "MAP: " + "; ".join(
                    f"{r.name} 0x{r.base:08X}-0x{r.end - 1:08X} {r.perms}"
                    for r in (self.memory or [])))
                return
            lo, hi, perms = s.args
            self.note(prog, line, self.target.map_region(lo, hi + 1, perms))
        elif name in ("LOG", "SLOG", "ITMLOG"):
            self.log_command(s, prog)
        elif name == "KILL":
            what, item = s.args
            if what == "FUNC":
                if item == "*":
                    self.functions.clear()
                elif item.upper() in self.functions:
                    del self.functions[item.upper()]
                else:
                    raise self.error(prog, line, s.loc.col, f"KILL FUNC {item}: no such "
                                     "function")
            else:
                self.note(prog, line, f"KILL BUTTON {item}: armsim has no toolbox buttons")
        elif name == "BUTTON":
            label, cmd = s.args
            self.note(prog, line, f"DEFINE BUTTON \"{label}\": armsim has no toolbox to press; "
                      f"its command \"{cmd}\" is not run")
        elif name == "SIGNAL STATE":
            text = "; ".join(f"{x.name}: {'done' if x.done else f'waits until {x.wake:,.0f}'}"
                             for x in self.signals) or "no signals"
            self.note(prog, line, f"SIGNAL STATE: {text}")
        elif name == "SIGNAL KILL":
            live = [x for x in self.signals if x.name.upper() == s.args[0] and not x.done]
            if not live:
                raise self.error(prog, line, s.loc.col, f"SIGNAL KILL {s.args[0]}: no such "
                                 "signal is running")
            for x in live:
                x.kill()
        else:  # NOTE
            self.note(prog, line, f"'{s.text}': a debugger window/tool command, nothing to do "
                      "in armsim")

    def log_command(self, s: Command, prog: Program) -> None:
        mode, path = s.args
        line = s.loc.line
        if s.name == "ITMLOG":
            if mode in (">", ">>"):
                self.itm_log = path
                self.note(prog, line, f"ITMLOG {mode} {path}: ITM port output is kept in the "
                          "report's logs")
            else:
                self.itm_log = None
            return
        if mode in (">", ">>"):
            if s.name == "SLOG":
                self.note(prog, line, f"SLOG {mode} {path}: armsim models no UART, so the "
                          "serial log stays empty (semihosting and ITM output are in the report)")
                self.logs.setdefault(path, [])
                return
            self.log_to = path
            if mode == ">":
                self.logs[path] = []
            self.note(prog, line, f"LOG {mode} {path}: script output is kept in the report's "
                      "logs")
        elif mode == "off":
            self.log_to = None
        else:
            self.note(prog, line, f"{s.name}: {'logging to ' + self.log_to if self.log_to else 'off'}")

    # -- memory -----------------------------------------------------------------------------
    def write_one(self, addr: int, kind: str, bits: int, line: int, prog: Program) -> Script:
        one = Script(prog.path, np.array([addr], np.int64), np.array([KIND_CODES[kind]], np.int8),
                     np.array([bits], np.uint64), np.array([line], np.int32), len(prog.lines))
        self.write(one, prog)
        return one

    def write(self, script: Script, prog: Program | None = None) -> None:
        prog = prog or self.program
        new = np.unique(script.address >> 12)
        if len(self.pages) + len(new) > limits.MAX_PAGES:
            fresh = [p for p in new.tolist() if p not in self.pages]
            if len(self.pages) + len(fresh) > limits.MAX_PAGES:
                over = fresh[limits.MAX_PAGES - len(self.pages)]
                i = int(np.flatnonzero((script.address >> 12) == over)[0])
                raise self.error(prog, int(script.line[i]), 1, f"writes touch more than "
                                 f"{limits.MAX_PAGES:,} distinct 4 KiB pages (cap "
                                 "ARMSIM_SCRIPT_MAX_PAGES)")
        self.pages.update(new.tolist())
        if self.memory is not None:
            from .check import check_writes

            if self.use_peripherals:
                self.map_touched(script)
            try:
                check_writes(script, self.memory, self.layout, self.allow_outside)
            except ScriptError as e:
                raise self.error(prog, e.line, e.col, e.reason) from None
        self.target.write_batch(script)
        self.log.append(script)

    def map_touched(self, script: Script) -> None:
        """Map (as unmodelled memory) the pages a write touches that nothing maps yet."""
        assert self.memory is not None
        regions = list(self.memory)
        lo = np.array([r.base for r in regions], np.int64)
        hi = np.array([r.end for r in regions], np.int64)
        a = script.address
        inside = ((a[:, None] >= lo) & (a[:, None] + script.size[:, None] <= hi)).any(1)
        for i in np.flatnonzero(~inside)[:64]:
            self.target.ensure_mapped(int(a[i]), int(script.size[i]))


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

    def symbol(self, name: str) -> tuple[int, int, bool] | None:
        return None

    def line_address(self, file: str, line: int) -> tuple[int, int] | None:
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
