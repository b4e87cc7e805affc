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
from pathlib import Path
from typing import Any

import numpy as np

from armsim.errors import ScriptError
from armsim.machine.peripherals import guess
from armsim.parts.memory import MemoryMap
from armsim.plan import Plan
from armsim.script import arith, limits
from armsim.script.arith import Fault, Num
from armsim.script.cformat import format_c
from armsim.script.check import check_conflicts, check_writes
from armsim.script.commands import Commands
from armsim.script.lexer import show
from armsim.script.memory_target import MemoryTarget, Target
from armsim.script.model import KIND_CODES, KINDS, Script
from armsim.script.paths import outside_note
from armsim.script.program import (
    REGISTER_ALIASES,
    REGISTERS,
    UINT,
    BreakCmd,
    BreakSet,
    Command,
    CType,
    Decl,
    Expr,
    ExprStmt,
    FuncDef,
    Go,
    If,
    Include,
    Jump,
    Load,
    Loop,
    Program,
    Statement,
    Step,
    Write,
    WriteBatch,
    concat,
)
from armsim.script.signals import Signal
from armsim.script.state import Breakpoint, ExitScript, Frame, RunLog, Unresolved, Unwind

__all__ = ["MemoryTarget", "RunLog", "Runner", "Target", "Unresolved"]

MAX_CALL_DEPTH = 32
READ_SIZES = {"_RBYTE": 1, "_RWORD": 2, "_RDWORD": 4, "_RFLOAT": 4, "_RDOUBLE": 8}
MATH = {"__SIN": math.sin, "__COS": math.cos, "__TAN": math.tan, "__ASIN": math.asin,
        "__ACOS": math.acos, "__ATAN": math.atan, "__SQRT": math.sqrt, "__EXP": math.exp,
        "__LOG": math.log, "__LOG10": math.log10, "__FABS": math.fabs, "__FLOOR": math.floor,
        "__CEIL": math.ceil, "__ABS": abs}
MATH2 = {"__POW": math.pow, "__ATAN2": math.atan2, "__FMOD": math.fmod}
#: Functions that ask the user for input: a script run by armsim has no one to answer.
INTERACTIVE = ("GETINT", "GETLONG", "GETFLOAT", "GETDBL")
#: In script check of someone's own set-up: a loop that reads an unmodelled peripheral this
#: many turns in a row is waiting for hardware; it is left with a warning.
WAIT_TURNS = 10_000
SYSTEM = {"STATES", "_BREAK_", "_TRAPS_", "RADIX", "ITRACE", "CCLK", "SIM_CYCCNT", "_IIP_"}

#: The Code and SRAM spaces of the Cortex-M memory map (ARMv7-M B3.1): a script write there
#: must land in the part's memory or a MAP range.
CODE_SRAM_END = 0x40000000


class Runner(Commands):
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
        self.last_periph_read: int | None = None
        self.periph_reads = 0
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
        try:
            self.exec(self.program.statements, self._global_frame(self.program))
        except ExitScript:
            pass
        except Unwind as j:
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
            logs[self.itm_log] = self.target.itm_text()
        return RunLog(writes, self.notes, self.warnings, logs, self.target.peripherals())

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
            self.tick(frame.program, s)
            try:
                self.exec_one(s, frame)
            except Unresolved as e:
                if not self.lenient or self.target.own_program:
                    raise  # the program is the user's own: a name it lacks is an error
                self.warnings.append(f"{self.where(frame.program, e.line)}: {e.reason}; "
                                     "statement skipped")
            except Fault as e:
                raise self.error(frame.program, e.line, e.col, e.reason) from None
            except ScriptError as e:
                if e.line or isinstance(s, WriteBatch):
                    raise
                loc = getattr(s, "loc")
                raise self.error(frame.program, loc.line, loc.col, e.reason) from None

    def tick(self, program: Program, s: Statement) -> None:
        """Count one statement, loop turn or step; past the cap, an error naming the loop."""
        self.steps += 1
        if self.steps > limits.MAX_STEPS:
            raise self.loop_error(program, s)

    def loop_error(self, program: Program, s: Statement, turns: int = 0) -> ScriptError:
        loc = getattr(s, "loc", None)
        line = loc.line if loc is not None else 0
        why = ""
        if self.last_periph_read is not None:
            name = guess(self.last_periph_read)
            why = (f"; it last read 0x{self.last_periph_read:08X}, an unmodelled peripheral"
                   f"{f' ({name}?)' if name else ''} that only returns what was written: a wait "
                   "for hardware armsim does not model")
        if turns:
            return self.error(program, line, 1, f"the loop turned {turns:,} times reading an "
                              f"unmodelled peripheral{why}")
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
            raise Unwind(s.kind, 0 if s.value is None else self.eval(s.value, frame))
        elif isinstance(s, FuncDef):
            if s.name in self.functions:
                first = self.functions[s.name][0].loc.line
                self.note(prog, s.loc.line, f"{s.display}() redefined (first defined at line "
                          f"{first})")
            self.functions[s.name] = (s, prog)
        elif isinstance(s, Include):
            note = outside_note(Path(s.program.path), os.path.dirname(os.path.abspath(prog.path)))
            if note:
                self.note(prog, s.loc.line, f"INCLUDE {Path(s.program.path).name}{note}")
            self.exec(s.program.statements, self._global_frame(s.program))
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

    def _global_frame(self, program: Program) -> Frame:
        """A frame whose variables are the script's debugger variables (top level, INCLUDE,
        breakpoint commands)."""
        f = Frame(None, program)
        f.vars = self.globals
        return f

    def loop(self, s: Loop, frame: Frame) -> None:
        self.exec(s.init, frame)
        first = True
        waiting = 0  # turns in a row that read an unmodelled peripheral
        while True:
            reads = self.periph_reads
            if (s.test_first or not first) and s.cond is not None and \
                    not self.truth(s.cond, frame):
                return
            first = False
            self.tick(frame.program, s)
            waiting = waiting + 1 if self.periph_reads > reads else 0
            if self.lenient and waiting > WAIT_TURNS:
                self.warn(frame.program, s.loc.line, self.loop_error(frame.program, s, WAIT_TURNS)
                          .reason + "; the loop was left, as if the hardware had answered")
                return
            try:
                self.exec(s.body, frame)
            except Unwind as j:
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
        if kind in ("index", "member"):
            return self.typed_read(*self.lvalue(e, frame), e)
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
            self.periph_reads += 1
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
        if target[0] in ("index", "member"):
            return self.lvalue(target, frame)[0]
        raise arith.fault(at, "'&' needs a program variable")

    # -- program variables by their C types (DWARF: machine/dwarf.py) ------------------------
    def lvalue(self, e: Expr, frame: Frame) -> tuple[int, Any]:
        """Where a program object is and its C type: a variable, an element ``a[i]`` (of an
        array, or through a pointer), a member ``s.m`` or ``p->m``, or ``*p``."""
        kind = e[0]
        if kind in ("name", "prog"):
            if kind == "name" and self.variable(e[1], frame) is not None:
                raise arith.fault(e, f"'{e[1]}' is a debugger variable: it has no elements "
                                  "or members in target memory")
            found = self.target.variable(e[1])
            if found is not None:
                return found
            if self.target.symbol(e[1]) is None:
                raise self.unknown(e, frame)
            raise Unresolved(f"'{e[1]}': the program has no debug information for it (build "
                             "with -g) to find its elements or members", "", e[-2], e[-1])
        if kind == "deref":
            addr, t = self.lvalue(e[1], frame)
            if t.kind != "pointer":
                raise arith.fault(e, f"'*' needs a pointer; this is a {t.name}")
            return self._pointer(addr, e), t.target
        if kind == "index":
            addr, t = self.lvalue(e[1], frame)
            i = self.eval(e[2], frame)
            if not isinstance(i, int):
                raise arith.fault(e, f"an index must be an integer, got {i!r}")
            if t.kind == "array":
                if t.count is not None and not 0 <= i < t.count:
                    raise arith.fault(e, f"index {i} is outside {t.name} (0..{t.count - 1})")
                return addr + i * t.target.size, t.target
            if t.kind == "pointer":
                return self._pointer(addr, e) + i * t.target.size, t.target
            raise arith.fault(e, f"'[]' needs an array or a pointer; this is a {t.name}")
        if kind == "member":
            addr, t = self.lvalue(e[1], frame)
            name, arrow = e[2], e[3]
            if arrow:
                if t.kind != "pointer":
                    raise arith.fault(e, f"'->{name}' needs a pointer to a struct; this is a "
                                      f"{t.name}")
                addr, t = self._pointer(addr, e), t.target
            if t.kind != "struct":
                raise arith.fault(e, f"'.{name}' needs a struct; this is a {t.name}"
                                  + (" (a pointer: use ->)" if t.kind == "pointer" else ""))
            if name not in t.members:
                raise arith.fault(e, f"struct {t.name} has no member '{name}' (it has "
                                  f"{', '.join(t.members) or 'none'})")
            offset, mt = t.members[name]
            return addr + offset, mt
        raise arith.fault(e, "expected a program variable, an element or a member")

    def _pointer(self, addr: int, at: Expr) -> int:
        return int(self.read_typed(addr, ("i", 4, False), at, "pointer"))

    @staticmethod
    def _scalar(t: Any) -> CType | None:
        """The debugger's type for a C scalar (None: an array, struct or void)."""
        if t.kind == "float" and t.size in (4, 8):
            return ("f", t.size)
        if t.kind in ("int", "enum") and t.size in (1, 2, 4, 8):
            return ("i", t.size, t.signed)
        if t.kind == "pointer":
            return ("i", 4, False)
        return None

    def typed_read(self, addr: int, t: Any, at: Expr) -> Num:
        """A program object's value: a scalar read with its width and sign, an array or a
        struct as its address (as C does)."""
        ct = self._scalar(t)
        return addr if ct is None else self.read_typed(addr, ct, at, t.name)

    def place(self, e: Expr) -> int:
        """``\\\\module\\func``, ``\\\\module\\file.c\\line``, ``\\file.c\\line`` or
        ``\\\\module\\../Src/file.c\\func`` (a file named by a relative path): an address."""
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
        if parts:  # \\module\function, or \\module\dir/../file.c\function
            sym = self.target.symbol(parts[-1])
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
        if target[0] in ("index", "member"):
            addr, t = self.lvalue(target, frame)
            sc = self._scalar(t)
            if sc is None:
                raise arith.fault(at, f"cannot assign to a {t.name} as a whole")
            return self.store_typed(addr, sc, v, at, prog)
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
            return self.access_watch(up, e, args, frame)
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
        except Unwind as j:
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
        values = [self.eval(a, frame) if a[0] != "str" else a[1] for a in args[1:]]
        return format_c(args[0][1], values, e)

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
            if self.use_peripherals:
                self.map_touched(script)
            try:
                check_writes(script, self.memory, self.layout, self.allow_outside)
            except ScriptError as e:
                raise self.error(prog, e.line, e.col, e.reason) from None
        self.target.write_batch(script)
        self.log.append(script)

    def map_touched(self, script: Script) -> None:
        """Map (as unmodelled memory) the pages a write touches that nothing maps yet, in the
        peripheral, external and system spaces; a write into the Code or SRAM space where
        neither the part nor a MAP has memory is left for check_writes to refuse (µVision's
        access violation)."""
        assert self.memory is not None
        regions = list(self.memory)
        lo = np.array([r.base for r in regions], np.int64)
        hi = np.array([r.end for r in regions], np.int64)
        a = script.address
        inside = ((a[:, None] >= lo) & (a[:, None] + script.size[:, None] <= hi)).any(1)
        inside |= a < CODE_SRAM_END
        for i in np.flatnonzero(~inside)[:64]:
            self.target.ensure_mapped(int(a[i]), int(script.size[i]))
