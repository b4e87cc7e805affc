"""Run a firmware image built anywhere (GCC ELF, Arm Compiler ``.axf``) on an MCU preset:
start from its vector table (or a script's set-up), stop at ``--until``, a semihosting
exit, a BKPT, the instruction budget or the time limit, and report how and where it
stopped, what it printed, and what it cost per function.

This is the library layer of ``armsim run``::

    from armsim.session.image_run import run_image, parse_read
    r = run_image("app.elf", mcu="stm32f407", until="main")
    r.stop.reason, r.exit_status, r.output["stdout"], r.functions[:5]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from armsim.errors import ArmsimError, EmulatorFault
from armsim.machine import stack
from armsim.machine.elf import ElfImage
from armsim.machine.emulator import DEFAULT_MAX_INSTRUCTIONS, DEFAULT_TIMEOUT_S, Machine
from armsim.machine.memcheck import MemoryCheck
from armsim.machine.semihost import Semihost
from armsim.machine.windows import Snapshot, window
from armsim.parts.cpus import CpuVariant, get_cpu
from armsim.parts.mcus import Mcu, get_mcu, resolve_cpu
from armsim.session.results import ABSENT, latency_ms, present
from armsim.timing import cycles
from armsim.timing.accuracy import error_json
from armsim.timing.datamem import summary

#: --read element types and their numpy dtypes (little-endian).
READ_TYPES = {"f32": "<f4", "i8": "i1", "u8": "u1", "i16": "<i2", "u16": "<u2", "i32": "<i4",
              "u32": "<u4"}


@dataclass(frozen=True)
class ReadSpec:
    """What ``--read`` asks for: a symbol or address, an element count and type."""

    label: str
    address: int
    count: int
    type: str

    @property
    def nbytes(self) -> int:
        """Bytes read."""
        return self.count * np.dtype(READ_TYPES[self.type]).itemsize


def parse_read(text: str, image: ElfImage, default_type: str = "f32",
               default_count: int | None = None) -> ReadSpec:
    """``SYMBOL[:COUNT[:TYPE]]`` or ``ADDRESS:COUNT[:TYPE]`` against an image's symbols."""
    parts = text.split(":")
    if not 1 <= len(parts) <= 3 or not parts[0]:
        raise ArmsimError(f"--read {text}: expected SYMBOL[:COUNT[:TYPE]] or "
                          "ADDRESS:COUNT[:TYPE]")
    what = parts[0]
    typ = parts[2] if len(parts) == 3 else default_type
    if typ not in READ_TYPES:
        raise ArmsimError(f"--read {text}: unknown type {typ!r}; one of "
                          f"{', '.join(READ_TYPES)}")
    size = np.dtype(READ_TYPES[typ]).itemsize
    count: int | None = default_count
    if len(parts) >= 2:
        try:
            count = int(parts[1], 0)
        except ValueError:
            raise ArmsimError(f"--read {text}: count {parts[1]!r} is not an integer") from None
        if count <= 0:
            raise ArmsimError(f"--read {text}: count must be positive")
    sym = image.symbols.get(what)
    if sym is not None:
        if count is None:
            if not sym.size or sym.size % size:
                raise ArmsimError(f"--read {text}: symbol {what} is {sym.size} bytes, not a "
                                  f"whole number of {typ}; give SYMBOL:COUNT:TYPE")
            count = sym.size // size
        elif sym.size and count * size > sym.size:
            raise ArmsimError(f"--read {text}: {count} x {typ} is {count * size} bytes; "
                              f"symbol {what} has {sym.size}")
        return ReadSpec(what, sym.address, count, typ)
    try:
        address = int(what, 0)
    except ValueError:
        raise ArmsimError(f"--read {text}: no symbol {what!r} in {image.path.name}, and it is "
                          "not an address") from None
    if count is None:
        raise ArmsimError(f"--read {text}: an address needs a count (ADDRESS:COUNT[:TYPE])")
    return ReadSpec(f"0x{address:08X}", address, count, typ)


def resolve_address(text: str, image: ElfImage, what: str) -> int:
    """A symbol (functions without their Thumb bit) or a number."""
    sym = image.symbols.get(text)
    if sym is not None:
        return sym.address & ~1
    try:
        return int(text, 0) & ~1
    except ValueError:
        raise ArmsimError(f"{what} {text}: no symbol {text!r} in {image.path.name}, and it is "
                          "not an address") from None


@dataclass(frozen=True)
class Stop:
    """How and where a run stopped.

    Attributes:
        reason: "exit" (semihosting), "halt" (armsim's firmware returned from main), "until",
            "bkpt", "instruction-budget", "time-limit" or a fault kind
        pc: where
        where: ``function+0xNN`` (and the source line when the ELF has one)
        detail: one line for people
    """

    reason: str
    pc: int
    where: str
    detail: str

    @property
    def clean(self) -> bool:
        """True when the firmware stopped where it meant to."""
        return self.reason in ("exit", "halt", "until")


@dataclass(frozen=True)
class Window:
    """The work between the first execution of ``start`` and the first of ``end``
    (``--between``): what DWT->CYCCNT read at both points would bracket.

    Attributes:
        start, end: the two addresses, and how they were named
        instructions: executed in [start, end) (exact)
        cycles_estimate: their estimated cycles
        data_memory: their M7 run-time address facts (datamem.summary), or None
        dwt_cycles: what the user's board measured between the same points (``--dwt-cycles``),
            or None
    """

    start: int
    end: int
    start_name: str
    end_name: str
    instructions: int
    cycles_estimate: float
    data_memory: dict[str, Any] | None = None
    dwt_cycles: int | None = None

    @property
    def error_pct(self) -> float | None:
        """The estimate's error against the board's count, in % of it (None: none given)."""
        if not self.dwt_cycles:
            return None
        return round(100.0 * (self.cycles_estimate - self.dwt_cycles) / self.dwt_cycles, 2)


@dataclass(frozen=True)
class FunctionCost:
    """One function's share of a run."""

    name: str
    calls: int
    instructions: int
    cycles_estimate: float


@dataclass
class ImageRun:
    """What one run of a firmware image did.

    Attributes:
        elf, cpu, mcu: what ran
        start: how the CPU was started (vector table or entry point)
        stop: how and where it stopped
        exit_status: the firmware's own status (semihosting exit, or main's return value)
        instructions, cycles_estimate: totals (exact; estimated)
        functions: cost per function, most expensive first
        peak_stack: bytes of stack used (painted-stack measure), None when not measurable
        reads: ``--read`` results by label
        output: console text per stream (stdout, stderr, itm)
        notes: what the user should know (CYCCNT is an estimate, SysTick never fires ...)
        semihosting: calls per operation
        findings: memory-check findings (``check_memory``)
        window: the ``--between`` figures (None: not asked, or START/END not reached)
        data_memory: on an M7, loads and stores in AXI SRAM and misaligned accesses, and
            their cycles (datamem.summary); None on other cores
    """

    elf: Path
    cpu: CpuVariant
    mcu: Mcu
    start: str
    stop: Stop
    exit_status: int | None
    instructions: int
    cycles_estimate: float
    functions: list[FunctionCost]
    peak_stack: int | None
    reads: dict[str, tuple[ReadSpec, np.ndarray]] = field(default_factory=dict)
    output: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    semihosting: dict[str, int] = field(default_factory=dict)
    findings: list[Any] = field(default_factory=list)
    machine: Machine | None = None
    window: Window | None = None
    data_memory: dict[str, Any] | None = None
    #: what the command adds: versions, the flash timing in words, the unmodelled peripherals
    #: the firmware touched, and ``--compare``'s comparison with the model
    versions: dict[str, str] = ABSENT
    flash: str = ABSENT
    peripherals: list[str] = ABSENT
    compare: dict[str, Any] = ABSENT
    #: the core clock (MHz) of ``latency_ms`` (the whole run's and the window's): the
    #: command's --clock-mhz, else the part's usual clock
    clock_mhz: float = ABSENT

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (``armsim/schemas/run.schema.json``)."""
        return {
            "elf": str(self.elf), "cpu": self.cpu.name, "mcu": self.mcu.name,
            "start": self.start,
            "stop": {"reason": self.stop.reason, "pc": f"0x{self.stop.pc:08X}",
                     "where": self.stop.where, "detail": self.stop.detail},
            "exit_status": self.exit_status, "instructions": self.instructions,
            "cycles_estimate": round(self.cycles_estimate, 1),
            "estimate_error_pct": error_json(self.cpu.name, self.mcu.name),
            "functions": [{"name": f.name, "calls": f.calls, "instructions": f.instructions,
                           "cycles_estimate": round(f.cycles_estimate, 1)}
                          for f in self.functions],
            "peak_stack_bytes": self.peak_stack,
            "reads": {k: {"address": f"0x{s.address:08X}", "count": s.count, "type": s.type,
                          "values": [float(v) if s.type == "f32" else int(v) for v in a]}
                      for k, (s, a) in self.reads.items()},
            "output": self.output, "semihosting_calls": self.semihosting,
            "notes": self.notes, "memory_findings": [f.to_json() for f in self.findings],
            "between": None if self.window is None else {
                "start": f"0x{self.window.start:08X}", "end": f"0x{self.window.end:08X}",
                "start_name": self.window.start_name, "end_name": self.window.end_name,
                "instructions": self.window.instructions,
                "cycles_estimate": round(self.window.cycles_estimate, 1),
                "data_memory": self.window.data_memory,
                **({"latency_ms": latency_ms(self.window.cycles_estimate, self.clock_mhz)}
                   if present(self.clock_mhz) else {}),
                **({"dwt_cycles": self.window.dwt_cycles, "error_pct": self.window.error_pct}
                   if self.window.dwt_cycles is not None else {})},
            "data_memory": self.data_memory,
            **({"clock_mhz": self.clock_mhz,
                "latency_ms": latency_ms(self.cycles_estimate, self.clock_mhz)}
               if present(self.clock_mhz) else {}),
            **{k: getattr(self, k) for k in ("versions", "compare", "peripherals", "flash")
               if present(getattr(self, k))}}


#: Tag_CPU_arch (ARM ELF build attributes) -> the CPU variant a generic part runs it on.
_ARCH_CPU = {"11": "m0", "12": "m0", "10": "m3", "16": "m0", "17": "m33"}


def cpu_for(image: ElfImage) -> str | None:
    """The CPU variant an image's build attributes name (None: no attributes)."""
    arch = image.attributes.get("TAG_CPU_ARCH")
    if arch == "13":  # ARMv7E-M: M4F with single-precision FP, M7 with FPv5
        fp = image.attributes.get("TAG_FP_ARCH")
        return "m7d" if fp == "8" else "m7" if fp == "7" else "m4f"
    return _ARCH_CPU.get(arch or "")


class ImageRunner:
    """One firmware image on one emulated MCU, ready to run (the script and the CLI use the
    same object: set up, then :meth:`run_on`)."""

    def __init__(self, elf: str | Path, mcu: Mcu | str = "generic",
                 cpu: CpuVariant | str | None = None, echo: TextIO | None = None,
                 max_instructions: int = DEFAULT_MAX_INSTRUCTIONS,
                 timeout_s: float = DEFAULT_TIMEOUT_S, check_memory: bool = False) -> None:
        self.mcu = get_mcu(mcu) if isinstance(mcu, str) else mcu
        #: the flash timing of the cycle estimates (flash.py); the part's reset state
        self.fetch: Any = None
        self.image = ElfImage.load(elf)
        if cpu is None and self.mcu.name in ("generic", "large"):
            cpu = cpu_for(self.image)  # the core the image was built for, not a kinder one
        if cpu is None or isinstance(cpu, str):
            cpu = get_cpu(resolve_cpu(self.mcu, cpu))
        self.cpu = cpu
        self.semihost = Semihost(echo=echo)
        self.machine = Machine(self.image, self.cpu, self.mcu, semihost=self.semihost)
        m = self.machine
        m.begin(max_instructions, timeout_s)
        self.semihost.heap = self._heap_info()
        self.semihost.cmdline = self.image.path.name
        self.semihost.clock = self._seconds
        self.paint = stack.paint(m)
        #: problems with the image itself, said before the run
        self.warnings = [
            f"segment {k} is writable but runs at 0x{seg.vaddr:08X}, in {r.name}, which is "
            "read-only on this part: was the image linked for another memory map (the "
            "toolchain's default script puts everything at 0x8000)? Link it with the part's "
            "linker script, or build it with `armsim build --sources`"
            for k, seg in enumerate(self.image.segments) if "w" in seg.flags
            for r in [m.map.find(seg.vaddr, max(seg.memsz, 1))] if r is not None
            and "w" not in r.perms]
        self.sanitizer = None
        if check_memory:
            self.sanitizer = MemoryCheck(m, self.paint)

    # -- set-up ------------------------------------------------------------------------------
    def _seconds(self) -> float:
        """Emulated seconds: the cycle estimate at the nominal clock of SYS_TICKFREQ."""
        return self.machine.cycles_so_far() / self.semihost.tick_hz

    def _heap_info(self) -> tuple[int, int, int, int]:
        """SYS_HEAPINFO: the heap from the end of the image's RAM data to the stack."""
        top = self.machine.initial_sp
        base = stack.data_end(self.machine)
        limit = max(top - 0x1000, base)
        return base, limit, top, limit

    def symbol_address(self, text: str, what: str) -> int:
        """A symbol or address of this image."""
        return resolve_address(text, self.image, what)

    # -- running -----------------------------------------------------------------------------
    def run_on(self, until: int | None = None, reads: list[ReadSpec] | None = None,
               started: str | None = None,
               between: tuple[int, int] | None = None) -> ImageRun:
        """Run from where the CPU is to the first stop; read, count and report.

        ``between`` = (start, end): run to the first execution of start, then stop at the
        first execution of end (it replaces ``until``), and measure the stretch in between.
        """
        m = self.machine
        notes: list[str] = list(self.warnings)
        stop: Stop
        marks: list[Snapshot] = []
        if between is not None:
            until = between[0]
        try:
            pc = m.go(stop=until)
            if between is not None and pc == between[0] and not m.exited:
                marks.append(m.snapshot())
                until = between[1]
                pc = m.go(stop=until) if between[1] != between[0] else pc
                if pc == until:
                    marks.append(m.snapshot())
            if m.exited:
                ex = self.semihost.exit
                assert ex is not None
                stop = self._stop("exit", pc, f"semihosting exit: {ex.reason} (0x{ex.code:X})"
                                  f", status {ex.status}")
            elif until is not None and pc == until:
                what = "--between's END" if between is not None else "--until"
                stop = self._stop("until", pc, f"reached {what} {m.image.describe(pc)}")
            else:
                stop = self._stop("halt", pc, "main returned (armsim_halt)")
        except EmulatorFault as e:
            reason = e.kind
            detail = str(e).split("\n", 1)[0]
            if e.kind == "bkpt":
                insn = m.read(e.pc, 2)
                imm = insn[0] if insn[1] == 0xBE else None
                detail = f"BKPT #{imm}" if imm is not None else "BKPT"
                if imm == 0xAB:
                    detail += " (a semihosting call; semihosting is off)"
            stop = self._stop(reason, e.pc, detail)
            if e.kind not in ("bkpt", "instruction-budget", "time-limit"):
                notes.append(e.report or str(e))
        if between is not None and not marks:
            notes.append(f"--between: START 0x{between[0]:08X} ({m.image.describe(between[0])}) "
                         "was not reached")
        elif until is not None and stop.reason != "until":
            what = "--between's END" if between is not None else "--until"
            notes.append(f"{what} 0x{until:08X} ({m.image.describe(until)}) was not reached")
        status = None
        if self.semihost.exit is not None:
            status = self.semihost.exit.status
        keys, counts, icounts, total = m._block_counts()
        est = cycles.estimate(m.timing_cpu, keys, counts, m.read, fetch=self.fetch,
                              extra=m.data_stalls(keys, counts)) if keys.size else None
        functions = self._functions(keys, counts, icounts, est)
        out = {k: v for k, v in self.semihost.output.items() if v}
        for port, data in m.debug.itm.items():
            out["itm" if port == 0 else f"itm{port}"] = data.decode("latin-1")
        if m.debug.cyccnt_reads:
            notes.append(f"the firmware read DWT->CYCCNT {m.debug.cyccnt_reads} time(s): it "
                         "counts armsim's cycle estimate (docs/cycle-model.md), not silicon")
            if m.debug.untraced_read:
                notes.append("CYCCNT was read with DEMCR.TRCENA clear: on the chip the DWT "
                             "counts only once TRCENA (DEMCR bit 24) is set")
        systick = int.from_bytes(m.read(0xE000E010, 4), "little")
        if systick & 1:
            notes.append("SysTick was enabled (SYST_CSR bit 0): armsim raises no SysTick "
                         "interrupts, so its handler never ran")
        if self.semihost.refused:
            notes.append("files the firmware tried to open were refused (armsim never "
                          f"touches the host's files): {', '.join(self.semihost.refused[:5])}")
        result_reads = {}
        for spec in reads or []:
            try:
                raw = m.read(spec.address, spec.nbytes)
            except Exception:
                raise ArmsimError(f"--read {spec.label}: 0x{spec.address:08X}+{spec.nbytes} is "
                                  f"not mapped memory:\n{m.map.table()}") from None
            result_reads[spec.label] = (spec, np.frombuffer(raw, READ_TYPES[spec.type]).copy())
        findings = self.sanitizer.finish() if self.sanitizer is not None else []
        window = self._window(between, marks) if between is not None and len(marks) == 2 \
            else None
        return ImageRun(self.image.path, self.cpu, self.mcu, started or m.start_note, stop,
                        status, total, est.total if est is not None else 0.0, functions,
                        self._peak(), result_reads, out, notes, dict(self.semihost.calls),
                        findings, m, window, self._data_memory(m.snapshot()[2], keys))

    def _data_memory(self, rows: np.ndarray | None, keys: np.ndarray) -> dict[str, Any] | None:
        """The M7's run-time address facts in ``rows``, of the blocks ``keys`` (datamem.py);
        None where not counted (another core)."""
        m = self.machine
        if m.accesses is None or rows is None:
            return None
        return summary(m.accesses, rows, m.data_timing, m.younger_loads(keys, rows))

    def _window(self, between: tuple[int, int], marks: list[Snapshot]) -> Window:
        """Instructions and estimated cycles between the two snapshots of ``--between``."""
        m = self.machine
        w = window(m, marks[0], marks[1], self.fetch)
        start, end = between
        return Window(start, end, m.image.describe(start), m.image.describe(end),
                      w.instructions, float(w.cycles), self._data_memory(w.rows, w.keys))

    def _stop(self, reason: str, pc: int, detail: str) -> Stop:
        where = self.image.describe(pc)
        line = self.image.source_line(pc)
        if line:
            where += f" ({Path(line[0]).name}:{line[1]})"
        return Stop(reason, pc, where, detail)

    def _functions(self, keys: np.ndarray, counts: np.ndarray, icounts: np.ndarray,
                   est: Any) -> list[FunctionCost]:
        rows: dict[str, list[float]] = {}
        for i, (k, n, ic) in enumerate(zip(keys, counts, icounts)):
            a = int(k) >> 32
            f = self.image.function_at(a)
            name = f.name if f else f"0x{a:08X}"
            r = rows.setdefault(name, [0, 0, 0.0])
            if f is not None and f.address == a:
                r[0] += int(n)
            r[1] += int(n) * int(ic)
            r[2] += float(est.per_block[i]) if est is not None else 0.0
        for address, n in self.machine._adjust.items():
            f = self.image.function_at(address)
            rows.setdefault(f.name if f else f"0x{address:08X}", [0, 0, 0.0])[1] += n
        out = [FunctionCost(k, int(v[0]), int(v[1]), v[2]) for k, v in rows.items()]
        return sorted(out, key=lambda f: -f.instructions)

    def _peak(self) -> int | None:
        return stack.peak(self.machine, self.paint) if self.paint is not None else None


def run_image(elf: str | Path, mcu: Mcu | str = "generic", cpu: str | None = None,
              until: str | None = None, reads: list[str] | None = None,
              echo: TextIO | None = None, check_memory: bool = False,
              max_instructions: int = DEFAULT_MAX_INSTRUCTIONS,
              timeout_s: float = DEFAULT_TIMEOUT_S,
              between: tuple[str, str] | None = None) -> ImageRun:
    """Run an image from reset to its first stop (see :class:`ImageRunner`); ``between``
    (START, END: symbols or addresses) measures the stretch from one to the other."""
    r = ImageRunner(elf, mcu, cpu, echo, max_instructions, timeout_s, check_memory)
    stop = r.symbol_address(until, "--until") if until else None
    specs = [parse_read(t, r.image) for t in reads or []]
    span = None if between is None else (r.symbol_address(between[0], "--between START"),
                                         r.symbol_address(between[1], "--between END"))
    return r.run_on(stop, specs, between=span)


__all__ = ["ImageRun", "ImageRunner", "ReadSpec", "Stop", "Window", "parse_read", "run_image"]
