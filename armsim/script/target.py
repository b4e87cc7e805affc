"""The emulated CPU as a script target: memory, registers, LOAD, G, BS, MAP, RESET."""

from __future__ import annotations

from typing import Any

from unicorn import UcError

from armsim.errors import ArmsimError, ScriptError
from armsim.machine.elf import ElfImage
from armsim.machine.emulator import Machine
from armsim.plan import Plan
from armsim.script.model import Script
from armsim.script.paths import outside_note, resolve_inside
from armsim.script.program import Program, map_ranges
from armsim.script.runner import RunLog, Runner
from armsim.session.session import Session

__all__ = ["MachineTarget", "resolve_inside", "run_on_session", "run_script"]


class MachineTarget:
    """Runs script commands on a :class:`Machine` whose ELF is the script's ``%L``.

    With ``peripherals`` (the default), the architecture's peripheral, external and system
    ranges the MCU preset leaves unmapped become unmodelled-peripheral memory for the run
    (peripherals.py); without, an access there faults as before. ``premap``: the script's
    MAP ranges (:func:`armsim.script.program.map_ranges`), mapped before those.
    """

    def __init__(self, machine: Machine, peripherals: bool = True,
                 premap: list[tuple[int, int, str]] | None = None,
                 own_program: bool = False) -> None:
        self.machine = machine
        #: the images whose symbols the script names, the program first: the machine's ELF
        #: until a LOAD of another file makes that file the program (INCREMENTAL adds one)
        self.images: list[ElfImage] = [machine.image]
        #: the program is the user's own image (--elf, armsim run, or a LOADed file): a name
        #: it lacks is the script's error, not a symbol of another program
        self.own_program = own_program
        for lo, hi, perms in premap or []:  # MAP ranges first (see Machine.map_region)
            try:
                self.map_region(lo, hi, perms)
            except ScriptError:
                pass  # refused again, with its line, when the MAP statement runs
        if peripherals:
            machine.open_unmodelled().log.clear()

    def write_batch(self, script: Script) -> None:
        """Coalesced writes straight into emulated memory."""
        self._host(lambda: self.machine.write_blocks(script.blocks()))

    def _host(self, f):  # type: ignore[no-untyped-def]
        u = self.machine.unmodelled
        if u is not None:
            u.host = True
        try:
            return f()
        finally:
            if u is not None:
                u.host = False

    def read(self, address: int, size: int) -> bytes:
        """Emulated memory as it stands now (a range a MAP left without READ refuses, as
        µVision's access violation does)."""
        r = self.machine.map.find(address, size)
        if r is not None and "r" not in r.perms:
            raise ScriptError(f"0x{address:08X} is in {r.name}, mapped without READ (a MAP "
                              "... CLEAR, or a MAP without READ)")
        try:
            return self._host(lambda: self.machine.read(address, size))
        except UcError:
            raise ScriptError(f"0x{address:08X} is not mapped") from None

    def readable(self, address: int) -> bool:
        r = self.machine.map.find(address, 1)
        return r is not None and "r" in r.perms

    def set_reg(self, name: str, value: int) -> None:
        self.machine.set_reg(name, value)

    def get_reg(self, name: str) -> int:
        return self.machine.get_reg(name)

    def symbol(self, name: str) -> tuple[int, int, bool] | None:
        """A program symbol: the exact name first, then ignoring case, as µVision does."""
        images = self.images
        for image in images:
            sym = image.symbols.get(name)
            if sym is not None:
                return sym.address, sym.size, sym.is_function
        low = name.lower()
        for image in images:
            for key, sym in image.symbols.items():
                if key.lower() == low:
                    return sym.address, sym.size, sym.is_function
        return None

    def variable(self, name: str) -> tuple[int, Any] | None:
        """A program variable's address and C type (machine/dwarf.py), from the program's
        debug information; None without one."""
        for image in self.images:
            found = image.variable(name)
            if found is not None:
                return found
        return None

    def line_address(self, file: str, line: int) -> tuple[int, int] | None:
        for image in self.images:
            found = image.line_address(file, line)
            if found is not None:
                return found
        return None

    def describe(self, address: int) -> str:
        return self.images[0].describe(address)

    def load(self, path: str | None, options: tuple[str, ...], base_dir: str) -> str:
        """``LOAD %L``: the simulated ELF; ``LOAD path``: another ELF inside the script's tree."""
        if path is None:
            if any(o in options for o in ("INCREMENTAL", "NOCODE", "NORESET")):
                return f"LOAD %L {' '.join(options)}: {self.machine.image.path.name} is loaded"
            self.machine.load_segments(self.machine.image)
            self.machine.reset_cpu()
            return f"LOAD %L: {self.machine.image.path.name} loaded, CPU reset"
        p = resolve_inside(path, base_dir)
        if p.suffix.lower() == ".hex":
            raise ScriptError(f"LOAD {path}: Intel HEX files are not supported; give the ELF "
                              "(.axf/.elf)")
        try:
            image = ElfImage.load(p)
            if "NOCODE" not in options:
                self.machine.load_segments(image)
        except ArmsimError as e:
            raise ScriptError(f"LOAD {path}: {e}") from None
        self.own_program = True
        if "INCREMENTAL" in options:  # its symbols beside the program's
            self.images.append(image)
            role = "symbols added to the program's"
        else:  # as µVision: that ELF is now the program, its symbols the ones names resolve to
            self.images = [image]
            role = "now the program (its symbols and memory)"
            if "NOCODE" not in options:
                self.machine.adopt_program(image)
        if "NOCODE" not in options and not any(o in options for o in ("INCREMENTAL", "NORESET")):
            self.machine.reset_cpu()
        return f"LOAD {path}: {len(image.segments)} segment(s), {role}" + (
            ", symbols only" if "NOCODE" in options else "") + outside_note(p, base_dir)

    def go(self, start: int | None, stop: int | None, breakpoints: set[int],
           watches: tuple[tuple[int, int, str], ...], max_steps: int | None
           ) -> tuple[int, str]:
        m = self.machine
        m.breakpoints = set(breakpoints)
        pc = m.go(start, stop, max_steps, watches)
        return pc, m.stopped_by

    def watch_hit(self) -> tuple[int, str, int] | None:
        """The access that stopped the last run on a watch: (address, kind, size)."""
        h = self.machine.watch_hit
        return None if h is None else (h[0], h[1], self.machine.watch_size)

    def reset(self) -> None:
        self.machine.reset_cpu()

    def states(self) -> float:
        return self.machine.cycles_so_far()

    def instructions(self) -> int:
        return self.machine.executed

    def call_return(self, pc: int) -> int | None:
        """The return address when the instruction at ``pc`` is a call (BL, BLX), else None."""
        hw = int.from_bytes(self.read(pc, 2), "little")
        if hw & 0xFF87 == 0x4780:  # BLX Rm (T1)
            return pc + 2
        if hw & 0xF800 == 0xF000:
            hw2 = int.from_bytes(self.read(pc + 2, 2), "little")
            if hw2 & 0xD000 in (0xD000, 0xC000):  # BL / BLX immediate (T1/T2)
                return pc + 4
        return None

    def clock_hz(self) -> float:
        return self.machine.mcu.clock_hz

    def map_region(self, lo: int, hi: int, perms: str) -> str:
        if perms == "clear":
            cleared, kept = self.machine.clear_region(lo, hi)
            parts = [f"0x{r.base:08X}-0x{r.end - 1:08X} cleared (no access until a MAP grants "
                     "it again)" for r in cleared]
            parts += [f"the part's {r.name} (0x{r.base:08X}-0x{r.end - 1:08X}) kept: the "
                      "program runs from the part's memories" for r in kept]
            return f"MAP 0x{lo:08X}-0x{hi - 1:08X} CLEAR: " + ("; ".join(parts) or
                                                               "nothing mapped there")
        try:
            made, kept = self.machine.map_region(lo, hi, perms)
        except ArmsimError as e:
            raise ScriptError(str(e)) from None
        # regions named map@ come from MAP commands (this one, applied when the script was
        # read: see run_script); the others are the MCU preset's
        ours = made + [r for r in kept if r.name.startswith("map@")]
        text = "; ".join(f"0x{r.base:08X}-0x{r.end - 1:08X} mapped {r.perms or '(no access)'}"
                         for r in sorted(ours, key=lambda r: r.base))
        keep = "; ".join(f"0x{r.base:08X}-0x{r.end - 1:08X} is the part's {r.name} "
                         f"({r.perms}), kept as it is" for r in kept
                         if not r.name.startswith("map@"))
        return "MAP: " + "; ".join(t for t in (text, keep) if t) if text or keep else \
            f"MAP 0x{lo:08X}-0x{hi - 1:08X}: mapped already"

    def ensure_mapped(self, address: int, size: int) -> bool:
        return self.machine.ensure_mapped(address, size)

    def itm_text(self) -> str:
        return "".join(b.decode("latin-1") for _, b in sorted(self.machine.debug.itm.items()))

    def peripherals(self) -> list[str]:
        u = self.machine.unmodelled
        return u.summary() if u is not None else []


def run_script(program: Program, machine: Machine, layout: Plan | None = None,
               allow_outside: bool = False, lenient: bool = False,
               peripherals: bool = True, own_program: bool = True) -> RunLog:
    """Run a script's statements on a machine (its MAP ranges first, then the unmodelled
    peripheral ranges unless ``peripherals`` is False); the run log. ``own_program``: the
    machine runs the user's own image, so every name the script uses must be in it."""
    target = MachineTarget(machine, peripherals, map_ranges(program), own_program)
    return Runner(program, target, machine.map, layout, allow_outside, lenient,
                  peripherals).run()


def run_on_session(session: Session, program: Program, allow_outside: bool = False,
                   lenient: bool = False, peripherals: bool = True,
                   layout: bool = True) -> RunLog:
    """Reset the session's CPU (its limits), then run a script's statements on it (writes,
    registers, LOAD, G); the run log (the buffers come from ``script.check.tensors``).

    ``lenient``: names and files the ELF cannot resolve are warnings (``script check``);
    ``peripherals``: unmodelled-peripheral ranges open for the script (else they fault);
    ``layout``: writes into SRAM must fall in the plan's buffers (unless allowed)."""
    m = session.machine
    m.begin(session.max_instructions, session.timeout_s)
    return run_script(program, m, session.plan if layout else None, allow_outside, lenient,
                      peripherals, session.build.kernels in ("user ELF", "user sources"))
