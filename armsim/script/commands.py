"""µVision's commands and SIGNAL scheduling, as a mixin of the interpreter (runner.py):
LOAD, G with breakpoints and signals, T/P, BS/BK/BD/BE/BL, RESET, EVAL/E, MAP, LOG, KILL,
DEFINE BUTTON, SIGNAL STATE/KILL, EXIT."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

from armsim.errors import EmulatorFault, ScriptError
from armsim.script import arith
from armsim.script.arith import Num
from armsim.script.program import (
    BreakCmd,
    BreakSet,
    Command,
    Expr,
    FuncDef,
    Go,
    Load,
    Program,
    Step,
)
from armsim.script.signals import Signal, SignalKilled
from armsim.script.state import Breakpoint, ExitScript, Frame, Unresolved

if TYPE_CHECKING:
    from armsim.script.runner import Runner

    _Base = Runner
else:
    _Base = object


class Commands(_Base):
    """The command half of :class:`armsim.script.runner.Runner`."""

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
        try:
            sig.step()
        except SignalKilled:
            pass
        except Unresolved as e:
            if not self.lenient or self.target.own_program:
                raise
            self.warnings.append(f"signal {sig.name}: {e.reason}; signal stopped")

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

    def access_watch(self, up: str, e: Expr, args: tuple, frame: Frame) -> int:
        """``rwatch(a)``/``wwatch(a)``: the signal waits until the program reads (writes)
        address ``a``; it runs on right after that access."""
        sig = frame.signal
        if sig is None:
            raise arith.fault(e, f"{up.lower()}() waits inside a SIGNAL function only")
        if len(args) != 1:
            raise arith.fault(e, f"{up.lower()} takes one argument (an address)")
        addr = self.eval_addr(args[0], frame, f"{up.lower()} address")
        sig.wait_access(addr, "read" if up == "RWATCH" else "write")
        return 0

    def due_signals(self) -> list[Signal]:
        return [s for s in self.signals if not s.done]

    def woken(self, hit: tuple[int, str, int] | None) -> list[Signal]:
        """The signals waiting for the access ``hit`` (address, kind, size) made."""
        if hit is None:
            return []
        address, kind, size = hit
        return [s for s in self.due_signals() if s.access is not None and s.access[1] == kind
                and address <= s.access[0] < address + max(size, 1)]

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
            waiting = [s for s in self.due_signals() if s.access is not None]
            live = [s for s in self.due_signals() if s.access is None]
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
            watches += tuple((s.access[0], s.access[0] + 1, s.access[1]) for s in waiting
                             if s.access is not None)
            pc, why = self.target.go(start, stop, exec_bps, watches, steps)
            start = None
            if why == "watch":
                woke = self.woken(self.target.watch_hit())
                for s in woke:  # a signal's rwatch/wwatch: it runs on, and so does the CPU
                    self.resume_signal(s)
                if woke and self.break_flag:
                    return self.target.get_reg("PC"), "_break_ set by a signal"
                if woke and self.hit_breakpoint(pc, why) is None:
                    continue
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
                    self.exec(bp.command, self._global_frame(prog))
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
                hit = self.target.watch_hit()
                if hit is None or (hit[0] < b.address + b.size and b.address < hit[0] + hit[2]
                                   and hit[1] in b.access):
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
            self.tick(frame.program, s)
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
        elif s.access != "exec" and s.where[0] in ("index", "member"):
            addr, t = self.lvalue(s.where, frame)  # an element or member: its bytes
            size = max(1, t.size)
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
            raise ExitScript()
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
