"""TensorFlow Lite Micro on the emulated chip: one ``.tflite`` file run by TFLM itself (no
armsim graph or plan), op for op.

This is the library layer of ``--runtime tflm``::

    from armsim.session.tflm import TflmSession
    s = TflmSession("kws.tflite", cpu="m4f")       # builds TFLM once, finds the arena
    r = s.run([x])                                  # r.outputs, r.instructions
    p = s.profile([x])                              # one row per operator

The application (``armsim/firmware/tflm/app.py``) runs AllocateTensors once and then loops
over inferences; the emulator stops at its markers: it writes each input into the input
tensors at ``armsim_tflm_ready``, counts Invoke between ``armsim_tflm_invoke_begin`` and
``_end``, and reads the outputs there. Every inference starts from the state after
AllocateTensors (``MicroInterpreter::Reset`` clears SVDF's and LSTM's variable tensors), as the
host reference does.

The arena is the smallest with which AllocateTensors and Invoke succeed, in 16-byte steps:
found on one build whose arena is as large as SRAM allows (the emulator tells the application
how much of it to use), then linked exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from capstone import arm

from armsim.errors import ArmsimError, EmulatorFault, FirmwareFailed, ModelError
from armsim.firmware.tflm import library
from armsim.firmware.tflm.app import AppBuild, build_app
from armsim.firmware.tflm.tree import Tree, locate
from armsim.machine import disasm, stack
from armsim.machine.elf import ElfImage
from armsim.machine.emulator import Machine
from armsim.machine.windows import Window, window, window_counts
from armsim.model import flatbuffer, tflm_host
from armsim.model.flatbuffer import FlatbufferModel
from armsim.parts.cpus import CpuVariant, get_cpu
from armsim.parts.flash import Fetch
from armsim.parts.mcus import Mcu, get_mcu
from armsim.session.results import ESTIMATE_NOTE, fit_problems, latency_ms
from armsim.timing import cycles
from armsim.timing.accuracy import error_json

#: armsim_tflm_status values (armsim_tflm_main.cc) and what they mean.
STAGES = {0: "starting", 1: "the model's schema version is not the one TFLM reads",
          2: "registering an operator with the resolver failed",
          3: "creating the allocator failed (the arena cannot hold its own bookkeeping)",
          4: "AllocateTensors failed", 5: "ready", 6: "Invoke failed",
          7: "resetting the interpreter between inferences failed"}
READY, ALLOCATE_FAILED, ALLOCATOR_FAILED, INVOKE_FAILED = 5, 4, 3, 6
#: RecordedAllocationType (recording_micro_allocator.h), in order.
RECORDED = ("tflite_eval_tensor_data", "persistent_tflite_tensor_data",
            "persistent_tflite_tensor_quantization_data", "persistent_buffer_data",
            "tflite_tensor_variable_buffer_data", "node_and_registration_array", "op_data")
#: Instruction budget: a floor, then per MAC (FPU cores / soft-float cores) and per output
#: element.
BUDGET_FLOOR = 50_000_000
BUDGET_PER_MAC = {True: 60, False: 800}
BUDGET_PER_ELEMENT = 200
ASSUMED_RATE = 5_000_000
ALIGN = 16
#: Functions of the per-op profiler (their instructions are not the operators').
PROFILER_FUNCTIONS = ("armsim_tflm_op_begin", "armsim_tflm_op_end")
PROFILER_CLASS = "ArmsimProfiler"


def default_limits(model: FlatbufferModel, cpu: CpuVariant) -> tuple[int, float]:
    """(instruction budget, seconds) of one run, scaled with the model's MACs."""
    macs, elements = flatbuffer.work(model)
    budget = BUDGET_FLOOR + macs * BUDGET_PER_MAC[cpu.fpu is not None] + \
        elements * BUDGET_PER_ELEMENT
    return budget, 30.0 + budget / ASSUMED_RATE


class TflmFailed(FirmwareFailed):
    """AllocateTensors or Invoke failed on the chip (exit 1): the stage and TFLM's log."""

    def __init__(self, message: str, stage: int, log: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.log = log


@dataclass
class OpCost:
    """One operator's share of one inference (the per-op profiler's rows).

    Attributes:
        index: its position in subgraph 0
        op_type: the builtin operator, or the custom op's name
        output: its first output tensor's name
        instructions: exact: its kernel's invoke function, entry to return (the
            interpreter's loop, ResetTempAllocations and the profiler are Invoke's glue)
        cycles_estimate: estimated cycles of the same
        nested: profiler events of nested subgraphs' operators inside it (their cost is
            taken out by :func:`profile`)
    """

    index: int
    op_type: str
    output: str
    instructions: int
    cycles_estimate: float
    nested: int = 0


@dataclass
class TflmRun:
    """One inference.

    Attributes:
        outputs: the model's outputs, in their dtypes and shapes (raw integers for
            quantized outputs)
        instructions, cycles_estimate: Invoke's, exact and estimated
        tensors: with ``per_op``: every operator's outputs as the arena held them at the
            operator's end, by tensor index
        ops: with ``per_op``: each operator's cost
        window: what ran in Invoke (blocks and counts, for per-function tables)
    """

    outputs: list[np.ndarray]
    instructions: int
    cycles_estimate: float
    tensors: dict[int, np.ndarray] = field(default_factory=dict)
    ops: list[OpCost] = field(default_factory=list)
    window: Window | None = None


@dataclass
class ArenaSize:
    """The arena: the smallest that works, how it was found, and TFLM's breakdown.

    Attributes:
        bytes: the arena linked (the smallest that works, or ``--arena``'s)
        smallest: the smallest with which AllocateTensors and Invoke succeed (None: not
            searched, ``--arena`` given and it worked)
        used: ``arena_used_bytes()`` after AllocateTensors
        tried: every size tried and whether it worked
        breakdown: the recording allocator's figures (persistent, non-persistent, per type)
    """

    bytes: int
    smallest: int | None
    used: int
    tried: list[tuple[int, bool]] = field(default_factory=list)
    breakdown: dict[str, Any] = field(default_factory=dict)


class TflmApp:
    """One built TFLM application on one emulated CPU."""

    def __init__(self, build: AppBuild, model: FlatbufferModel, budget: tuple[int, float]
                 ) -> None:
        self.build = build
        self.model = model
        self.image = ElfImage.load(build.elf)
        self.machine = Machine(self.image, build.cpu, build.mcu)
        self.max_instructions, self.timeout_s = budget
        sym = self.image.symbols
        self.addr = {n: sym[n].address & ~1 for n in (
            "armsim_tflm_allocate_begin", "armsim_tflm_allocate_end", "armsim_tflm_ready",
            "armsim_tflm_invoke_begin", "armsim_tflm_invoke_end", "armsim_tflm_op_begin",
            "armsim_tflm_op_end", "armsim_tflm_status", "armsim_tflm_arena_limit",
            "armsim_tflm_arena_used", "armsim_tflm_tensors", "armsim_tflm_log",
            "armsim_tflm_log_len") if n in sym}
        self.tensor_addr: list[int] = []
        self.ready = False
        self.paint: tuple[int, int] | None = None
        self.allocate: Window | None = None

    # -- memory -------------------------------------------------------------------------------
    def _u32(self, name: str, k: int = 0) -> int:
        return int.from_bytes(self.machine.read(self.addr[name] + 4 * k, 4), "little")

    def status(self) -> int:
        """armsim_tflm_status."""
        return self._u32("armsim_tflm_status")

    def log(self) -> str:
        """TFLM's log so far (MicroPrintf's lines)."""
        n = min(self._u32("armsim_tflm_log_len"), 4096)
        return self.machine.read(self.addr["armsim_tflm_log"], n).decode(errors="replace")

    def read_tensor(self, index: int) -> np.ndarray | None:
        """Subgraph 0's tensor ``index`` as the arena holds it now (None: no data)."""
        t = self.model.main.tensors[index]
        a = self.tensor_addr[index] if index < len(self.tensor_addr) else 0
        if not a or t.dtype not in np.sctypeDict:
            return None
        raw = self.machine.read(a, t.nbytes)
        return np.frombuffer(raw, np.dtype(t.dtype).newbyteorder("<")).reshape(
            t.shape or ()).copy()

    # -- running ------------------------------------------------------------------------------
    def _failure(self, what: str) -> TflmFailed:
        st = self.status()
        log = self.log().strip()
        text = STAGES.get(st, f"status {st}")
        return TflmFailed(f"{self.model.path.name} on {self.build.cpu.title}: {text} ({what})"
                          + (f"; TFLM said: {log}" if log else "; TFLM printed nothing"),
                          st, log)

    def _go(self, stop: int, what: str) -> int:
        m = self.machine
        try:
            pc = m.go(stop=stop)
        except EmulatorFault as e:
            if e.kind == "bkpt" and self.log():
                raise TflmFailed(f"{self.model.path.name}: TFLM halted ({what}); it said: "
                                 f"{self.log().strip()}", self.status(), self.log()) from None
            raise
        if m.stopped_by == "halt":
            raise self._failure(what)
        return pc

    def start(self, arena_limit: int = 0, measure: bool = False,
              fetch: Fetch | None = None) -> None:
        """From reset to ``armsim_tflm_ready``: AllocateTensors (with ``arena_limit`` bytes
        of the arena, 0: all), the tensor addresses read; TflmFailed if it fails."""
        m = self.machine
        m.begin(self.max_instructions, self.timeout_s)
        m.write_blocks([(self.addr["armsim_tflm_arena_limit"],
                         int(arena_limit).to_bytes(4, "little"))])
        self.paint = stack.paint(m)
        if measure:
            self._go(self.addr["armsim_tflm_allocate_begin"], "starting")
            before = m.snapshot()
            self._go(self.addr["armsim_tflm_allocate_end"], "AllocateTensors")
            self.allocate = window(m, before, m.snapshot(), fetch)
        self._go(self.addr["armsim_tflm_ready"], "AllocateTensors")
        n = len(self.model.main.tensors)
        raw = m.read(self.addr["armsim_tflm_tensors"], 4 * n)
        self.tensor_addr = list(np.frombuffer(raw, "<u4").astype(int))
        self.ready = True

    def arena_used(self) -> int:
        """``arena_used_bytes()`` after AllocateTensors."""
        return self._u32("armsim_tflm_arena_used")

    def write_inputs(self, inputs: list[np.ndarray]) -> None:
        """The model's inputs into their tensors (each converted to its tensor's dtype)."""
        blocks = []
        for k, (x, t) in enumerate(zip(inputs, self.model.inputs)):
            a = np.asarray(x)
            if a.size != int(np.prod(t.shape or (1,))):
                raise ArmsimError(f"input {k} ({t.name}): {a.size} values; the tensor is "
                                  f"{t.shape}")
            addr = self.tensor_addr[t.index]
            if not addr:
                raise ArmsimError(f"input {k} ({t.name}) has no data in the arena")
            blocks.append((addr, a.astype(np.dtype(t.dtype).newbyteorder("<")).tobytes()))
        self.machine.write_blocks(blocks)

    def invoke(self, inputs: list[np.ndarray], per_op: bool = False,
               fetch: Fetch | None = None, cycles: bool = True) -> TflmRun:
        """One inference: inputs written, Invoke run and counted, outputs read; with
        ``per_op`` (a ``profile`` build) every operator's cost and outputs."""
        if not self.ready:
            self.start()
        m = self.machine
        self.write_inputs(inputs)
        m.recount(self.max_instructions, self.timeout_s)
        self._go(self.addr["armsim_tflm_invoke_begin"], "before Invoke")
        before = m.snapshot()
        ops: list[OpCost] = []
        tensors: dict[int, np.ndarray] = {}
        self.ready = False
        if per_op:  # runs to Invoke's end, stopping at each operator
            ops, tensors = self._per_op(fetch)
        else:
            self._go(self.addr["armsim_tflm_invoke_end"], "Invoke")
        after = m.snapshot()
        w: Window | None = None
        if cycles or per_op:
            w = window(m, before, after, fetch)
            instructions, estimate = w.instructions, w.cycles
        else:  # exact instructions without the cycle estimate (validations)
            counts, adjust, _rows = window_counts(m, before, after)
            instructions = sum(n * m.instructions_in(k >> 32, k & 0xFFFFFFFF)
                               for k, n in counts.items()) + sum(adjust.values())
            estimate = float("nan")
        outputs = [self.read_tensor(t.index) for t in self.model.outputs]
        # on to the next inference's start: Invoke's status is known there
        self._go(self.addr["armsim_tflm_ready"], "Invoke")
        self.ready = True
        if any(o is None for o in outputs):
            raise FirmwareFailed(f"{self.model.path.name}: an output tensor has no data")
        return TflmRun([o for o in outputs if o is not None], int(instructions), estimate,
                       tensors, ops, w)

    def _kernel_call(self, ret: int) -> int:
        """The address of the interpreter's call of the operator's kernel after a
        BeginEvent call returning to ``ret``: the first call through a register there
        (``registration->invoke(context, node)`` in MicroInterpreterGraph::InvokeSubgraph)."""
        code = self.machine.read(ret, 96)
        for insn in disasm.scan(code, ret):
            if insn.mnemonic == "blx" and insn.operands and \
                    insn.operands[0].type == arm.ARM_OP_REG:
                return int(insn.address)
        raise FirmwareFailed(f"{self.image.describe(ret)}: no kernel call after BeginEvent "
                             "returns (an interpreter armsim does not know)")

    def _per_op(self, fetch: Fetch | None) -> tuple[list[OpCost], dict[int, np.ndarray]]:
        """Run Invoke operator by operator: the profiler's calls say which operator runs,
        and each row is its kernel's invoke function, from its entry to its return, exactly
        (the interpreter's work around it is Invoke's glue). Operators of nested subgraphs
        (IF, WHILE, CALL_ONCE) run inside their parent's kernel: their profiler events are
        counted in ``OpCost.nested`` so the caller can take the profiler's cost out."""
        m = self.machine
        begin, end = self.addr["armsim_tflm_op_begin"], self.addr["armsim_tflm_op_end"]
        stop_at = self.addr["armsim_tflm_invoke_end"]
        sg = self.model.main
        ops: list[OpCost] = []
        tensors: dict[int, np.ndarray] = {}
        index = 0
        try:
            while True:
                m.breakpoints = {begin, end}
                if m.pc in (begin, end):  # step off the marker: a run resumed at a stop
                    m.go(max_steps=1)      # ignores that address
                pc = self._go(stop_at, "Invoke")
                if pc == stop_at:
                    break
                if pc == end:  # a top-level operator's end: its outputs are in the arena
                    op = sg.operators[index - 1] if 0 < index <= len(sg.operators) else None
                    for t in op.outputs if op is not None else ():
                        v = self.read_tensor(t)
                        if v is not None:
                            tensors[t] = v
                    continue
                # a top-level operator's begin: run to its kernel's call, then the kernel
                m.breakpoints = set()
                call = self._kernel_call(m.get_reg("LR") & ~1)
                self._go(call, "Invoke")
                sp, back = m.get_reg("SP"), call + 2
                m.go(max_steps=1)  # into the kernel
                start = m.snapshot()
                while True:  # its return (nested subgraphs return to the same address)
                    self._go(back, "Invoke")
                    if m.get_reg("SP") == sp:
                        break
                    m.go(max_steps=1)
                w = window(m, start, m.snapshot(), fetch)
                nested = sum(n for k, n in w.counts.items() if k >> 32 == begin)
                op = sg.operators[index] if index < len(sg.operators) else None
                ops.append(OpCost(index, op.op_type if op else "?",
                                  self.model.output_name(op) if op else "", w.instructions,
                                  round(w.cycles, 1), nested))
                index += 1
        finally:
            m.breakpoints = set()
        return ops, tensors

    def peak_stack(self) -> int | None:
        """Bytes of stack used so far (painted measure)."""
        return stack.peak(self.machine, self.paint) if self.paint is not None else None

    def read_record(self) -> dict[str, Any]:
        """The recording allocator's breakdown (a ``record`` build after AllocateTensors)."""
        sym = self.image.symbols.get("armsim_tflm_arena_report")
        if sym is None:
            return {}
        v = np.frombuffer(self.machine.read(sym.address, 4 * (3 + 3 * len(RECORDED))), "<u4")
        out: dict[str, Any] = {"used": int(v[0]), "persistent": int(v[1]),
                               "non_persistent": int(v[2])}
        for k, name in enumerate(RECORDED):
            req, used, count = (int(x) for x in v[3 + 3 * k:6 + 3 * k])
            out[name] = {"requested": req, "used": used, "count": count}
        return out


def _round_up(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


class TflmSession:
    """One ``.tflite`` model in TFLM on one emulated CPU and MCU, with the smallest arena.

    Attributes:
        model: the file
        cpu, mcu, kernels: where and how it runs (``cmsis-nn`` or ``reference``)
        arena: the arena found (or given) and TFLM's breakdown of it
        app: the deployed application (no profiler) with that arena
    """

    def __init__(self, model: FlatbufferModel | str | Path, cpu: CpuVariant | str = "m4f",
                 mcu: Mcu | str = "generic", kernels: str = library.DEFAULT_KERNELS,
                 arena: int | None = None, note: Callable[[str], None] | None = None,
                 max_instructions: int | None = None, timeout_s: float | None = None,
                 tree: Tree | None = None, check: bool = True) -> None:
        self.model = model if isinstance(model, FlatbufferModel) else flatbuffer.load(model)
        self.cpu = get_cpu(cpu) if isinstance(cpu, str) else cpu
        self.mcu = get_mcu(mcu) if isinstance(mcu, str) else mcu
        if kernels not in library.KERNEL_SETS:
            raise ArmsimError(f"--kernels {kernels}: TFLM's kernel sets are "
                              f"{', '.join(library.KERNEL_SETS)}")
        self.kernels = kernels
        self.note = note
        self.tree = tree or locate()
        budget, seconds = default_limits(self.model, self.cpu)
        self.limits = (max_instructions or budget, timeout_s or seconds)
        if check:  # TFLM's own refusal (a hybrid model, a damaged file) before any build
            tflm_host.check(self.model)
        if arena is not None and (arena <= 0 or arena % ALIGN):
            raise ArmsimError(f"--arena {arena}: give a positive multiple of {ALIGN} bytes")
        self._probes: dict[str, TflmApp] = {}
        self.arena = self._size_arena(arena)
        self.app = self._app("plain", self.arena.bytes)

    # -- builds -------------------------------------------------------------------------------
    def _app(self, variant: str, arena: int | None) -> TflmApp:
        b = build_app(self.model, self.cpu, self.mcu, self.kernels, variant, arena,
                      self.note, self.tree)
        return TflmApp(b, self.model, self.limits)

    def probe(self, variant: str) -> TflmApp:
        """The ``profile`` build (the deployed arena, at the same address: the same tensor
        layout, so the same kernel paths) or the ``record`` one (as large an arena as SRAM
        allows: the recording allocator needs more)."""
        if variant not in self._probes:
            self._probes[variant] = self._app(
                variant, self.arena.bytes if variant == "profile" else None)
        return self._probes[variant]

    def _works(self, app: TflmApp, size: int) -> bool:
        """True when AllocateTensors and one Invoke (zero inputs) succeed with ``size``
        bytes of the arena. A fault counts as failing: with some arenas just too small,
        TFLM's planner writes through pointers it never set (the chip would fault too)."""
        try:
            app.start(size)
            app.invoke([np.zeros(t.shape or (1,), t.dtype) for t in self.model.inputs])
        except TflmFailed as e:
            if e.stage in (ALLOCATE_FAILED, ALLOCATOR_FAILED, INVOKE_FAILED):
                return False
            raise
        except EmulatorFault as e:
            if e.kind in ("instruction-budget", "time-limit"):
                raise
            return False
        return True

    def _size_arena(self, given: int | None) -> ArenaSize:
        """The smallest arena that works (16-byte steps), checked on the sizing build; or
        ``given``, refused (bad input) when it is too small.

        The search starts at ``arena_used_bytes()`` (what stays allocated), which is less
        than AllocateTensors' peak (temporary allocations during Prepare), and bisects up to
        the largest arena the part allows; the answer is confirmed by 16 bytes less failing.
        """
        sizing = self._app("plain", None)
        most = sizing.build.arena_bytes
        try:
            sizing.start(0)
        except TflmFailed as e:
            if e.stage in (ALLOCATE_FAILED, ALLOCATOR_FAILED) and \
                    "failed to prepare" in (e.log or ""):  # a kernel refused, not the arena
                raise ModelError(
                    f"{self.model.path}: a TFLM kernel refuses this model when preparing it "
                    f"(not a question of arena size). TFLM said: {e.log}") from None
            if e.stage in (ALLOCATE_FAILED, ALLOCATOR_FAILED):
                raise ModelError(
                    f"{self.model.path}: TFLM cannot allocate this model's tensors in the "
                    f"{most:,} bytes of arena MCU preset '{self.mcu.name}' leaves; try a "
                    f"larger --mcu (e.g. large). TFLM said: {e.log or 'nothing'}") from None
            raise
        used = sizing.arena_used()
        tried: dict[int, bool] = {}

        def works(n: int) -> bool:
            if n not in tried:
                tried[n] = self._works(sizing, n)
            return tried[n]

        if not works(most):
            raise FirmwareFailed(f"{self.model.path.name}: AllocateTensors succeeds but "
                                 f"Invoke fails with the largest arena ({most:,} bytes); "
                                 f"TFLM said: {sizing.log().strip() or 'nothing'}")
        lo, hi = _round_up(used) // ALIGN - 1, most // ALIGN  # lo fails (or is untested)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if works(mid * ALIGN):
                hi = mid
            else:
                lo = mid
        size = hi * ALIGN
        while size - ALIGN >= ALIGN and works(size - ALIGN):  # not monotonic after all
            size -= ALIGN
        breakdown = {}
        rec = self.probe("record")
        try:
            rec.start(0)
            breakdown = rec.read_record()
        except TflmFailed:
            breakdown = {}
        steps = sorted(tried.items())
        if given is None:
            return ArenaSize(size, size, used, steps, breakdown)
        if given < size:
            raise ModelError(
                f"--arena {given}: too small for {self.model.path.name} on "
                f"{self.cpu.title}: TFLM's AllocateTensors and Invoke need an arena of at "
                f"least {size:,} bytes (arena_used_bytes() = {used:,})")
        return ArenaSize(given, size, used, steps, breakdown)

    # -- running ------------------------------------------------------------------------------
    def run(self, inputs: list[np.ndarray], fetch: Fetch | None = None,
            cycles: bool = True) -> TflmRun:
        """One inference on the deployed application (``cycles``: with the cycle estimate,
        else NaN: faster, for validations)."""
        return self.app.invoke(inputs, fetch=fetch, cycles=cycles)

    def run_per_op(self, inputs: list[np.ndarray], fetch: Fetch | None = None) -> TflmRun:
        """One inference on the profiled build: each operator's cost and outputs."""
        return self.probe("profile").invoke(inputs, per_op=True, fetch=fetch)

    def allocate_cost(self, fetch: Fetch | None = None) -> Window:
        """AllocateTensors on the deployed application (from reset)."""
        self.app.start(0, measure=True, fetch=fetch)
        assert self.app.allocate is not None
        return self.app.allocate

    @property
    def elf(self) -> Path:
        """The deployed application's ELF."""
        return self.app.build.elf


@dataclass
class TflmProfile:
    """``armsim profile --runtime tflm``: one inference of TFLM on one CPU.

    Attributes:
        model, cpu, cpu_title, kernels: what ran
        cycle_model, wait_states, flash: the cycle estimate's model and flash timing
        instructions, cycles_estimate: Invoke on the deployed build (no profiler)
        allocate: AllocateTensors (once, at start-up)
        ops: one row per operator of subgraph 0 (the per-op profiler's build, its own
            instructions left out)
        glue: Invoke's own work outside the operators (= instructions - the operators')
        profiler: what the per-op profiler adds to Invoke (its build against the deployed)
        functions: Invoke's cost per function (the deployed build)
        footprint: flash (code + model) and RAM (arena + data + bss + peak stack), and the fit
        arena: the arena and how it was found
    """

    model: str
    cpu: str
    cpu_title: str
    kernels: str
    cycle_model: str
    wait_states: int
    flash: str
    instructions: int
    cycles_estimate: float
    allocate: dict[str, float]
    ops: list[OpCost]
    glue: dict[str, float]
    profiler: dict[str, float]
    functions: list[dict[str, Any]]
    footprint: dict[str, Any]
    arena: dict[str, Any]
    outputs: list[np.ndarray] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    #: the clock of the latency (MHz) and the flash accelerator state of the estimate
    clock_mhz: float | None = None
    flash_accel: str = ""

    @property
    def latency_ms(self) -> float | None:
        """Invoke's estimated cycles at ``clock_mhz``, in ms (an estimate)."""
        return latency_ms(self.cycles_estimate, self.clock_mhz)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` form."""
        return {"runtime": "tflm", "model": self.model, "cpu": self.cpu,
                "cpu_title": self.cpu_title, "kernels": self.kernels,
                "cycle_model": self.cycle_model, "wait_states": self.wait_states,
                "flash": self.flash, "total_instructions": self.instructions,
                "total_cycles_estimate": round(self.cycles_estimate, 1),
                "clock_mhz": self.clock_mhz, "latency_ms": self.latency_ms,
                "flash_accel": self.flash_accel,
                "allocate_tensors": self.allocate, "ops": [
                    {"index": o.index, "op": o.op_type, "output": o.output,
                     "instructions": o.instructions, "cycles_estimate": o.cycles_estimate}
                    for o in self.ops],
                "invoke_glue": self.glue, "profiler": self.profiler,
                "functions": self.functions, "footprint": self.footprint,
                "arena_bytes": self.arena["bytes"], "arena": self.arena,
                "estimate_note": ESTIMATE_NOTE,
                "estimate_error_pct": error_json(self.cpu, self.footprint.get("mcu")),
                **self.extra}


def arena_json(a: ArenaSize) -> dict[str, Any]:
    """An :class:`ArenaSize` as JSON data."""
    return {"bytes": a.bytes, "smallest": a.smallest, "arena_used_bytes": a.used,
            "tried": [{"bytes": n, "works": ok} for n, ok in a.tried],
            "breakdown": a.breakdown}


def _functions(app: TflmApp, w: Window) -> list[dict[str, Any]]:
    rows: dict[str, list[float]] = {}
    m, image = app.machine, app.image
    for j, (k, n) in enumerate(w.counts.items()):
        a, size = k >> 32, k & 0xFFFFFFFF
        f = image.function_at(a)
        name = f.name if f is not None else f"0x{a:08X}"
        r = rows.setdefault(name, [0, 0, 0.0])
        if f is not None and a == f.address:
            r[0] += n
        r[1] += n * m.instructions_in(a, size)
        r[2] += float(w.estimate.per_block[j]) if w.estimate is not None else 0.0
    for a, n in w.adjust.items():
        f = image.function_at(a)
        r = rows.setdefault(f.name if f is not None else f"0x{a:08X}", [0, 0, 0.0])
        r[1] += n
        r[2] -= w.back[a]
    out = [{"name": k, "calls": int(v[0]), "instructions": int(v[1]),
            "cycles_estimate": round(v[2], 1)} for k, v in rows.items() if v[1]]
    return sorted(out, key=lambda r: -r["instructions"])


def footprint(s: TflmSession, peak_stack: int) -> dict[str, Any]:
    """Flash (code and the model) and RAM (the arena, .data, .bss, peak stack), and whether
    they fit the MCU preset."""
    secs = s.app.image.sections
    size = {n: secs.get(n, (0, 0, "", 0))[1] for n in (
        ".isr_vector", ".text", ".rodata", ".ARM.exidx", ".preinit_array", ".init_array",
        ".fini_array", ".data", ".bss", ".noinit")}
    model_bytes = len(s.model.data)
    code = size[".isr_vector"] + size[".text"] + size[".ARM.exidx"] + \
        size[".preinit_array"] + size[".init_array"] + size[".fini_array"]
    flash = {"code": code, "rodata": size[".rodata"] - model_bytes, "model": model_bytes,
             "data": size[".data"]}
    flash_total = sum(flash.values())
    arena = s.arena.bytes
    ram = {"arena": arena, "data": size[".data"], "bss": size[".bss"],
           "other_noinit": size[".noinit"] - arena, "stack_peak": peak_stack}
    ram_total = sum(ram.values())
    mcu = s.mcu
    problems = fit_problems(mcu, ram_total, f"arena {arena:,}, .data+.bss "
                            f"{size['.data'] + size['.bss']:,}, stack {peak_stack:,}",
                            flash_total, f"model {model_bytes:,}")
    return {"flash": {**flash, "total": flash_total}, "ram": {**ram, "total": ram_total},
            "mcu": mcu.name, "mcu_flash": mcu.flash_size, "mcu_sram": mcu.sram_size,
            "fits": not problems, "fit_problems": problems}


def profile(s: TflmSession, inputs: list[np.ndarray], fetch: Fetch | None = None
            ) -> TflmProfile:
    """One inference of ``inputs`` profiled: the deployed build's Invoke (total, per
    function), AllocateTensors, and the per-op build's rows."""
    fetch = fetch if fetch is not None else Fetch(0)
    alloc = s.app
    alloc.start(0, measure=True, fetch=fetch)
    a = alloc.allocate
    assert a is not None
    run = s.app.invoke(inputs, fetch=fetch)
    peak = s.app.peak_stack() or 0
    per_op = s.run_per_op(inputs, fetch=fetch)
    assert run.window is not None
    # the profiler's cost: the functions whose instructions differ between its build and
    # the deployed one (the same library code and arena layout: its own functions, and the
    # interpreter's calls of them), the same for every event (one code path); the events of
    # nested subgraphs' operators ran inside their parent's kernel row
    plain = {f["name"]: f for f in _functions(s.app, run.window)}
    assert per_op.window is not None
    prof = {f["name"]: f for f in _functions(s.probe("profile"), per_op.window)}
    zero = {"instructions": 0, "cycles_estimate": 0.0}
    changed = [n for n in set(plain) | set(prof)
               if prof.get(n, zero)["instructions"] != plain.get(n, zero)["instructions"]]
    added = sum(prof.get(n, zero)["instructions"] - plain.get(n, zero)["instructions"]
                for n in changed)
    added_cyc = sum(prof.get(n, zero)["cycles_estimate"] - plain.get(n, zero)["cycles_estimate"]
                    for n in changed)
    events = len(per_op.ops) + sum(o.nested for o in per_op.ops)
    per_event = added / events if events else 0.0
    per_event_cyc = added_cyc / events if events else 0.0
    ops = [OpCost(o.index, o.op_type, o.output,
                  o.instructions - round(o.nested * per_event),
                  round(o.cycles_estimate - o.nested * per_event_cyc, 1), o.nested)
           for o in per_op.ops]
    ops_ins = sum(o.instructions for o in ops)
    ops_cyc = sum(o.cycles_estimate for o in ops)
    timing = cycles.timing_for(cycles.timing_key(s.cpu.name, s.mcu))
    return TflmProfile(
        model=s.model.name, cpu=s.cpu.name, cpu_title=s.cpu.title, kernels=s.kernels,
        cycle_model=timing.name, wait_states=fetch.wait_states, flash=fetch.note,
        instructions=run.instructions, cycles_estimate=run.cycles_estimate,
        allocate={"instructions": a.instructions, "cycles_estimate": round(a.cycles, 1)},
        ops=ops,
        glue={"instructions": run.instructions - ops_ins,
              "cycles_estimate": round(run.cycles_estimate - ops_cyc, 1)},
        profiler={"instructions": added, "cycles_estimate": round(added_cyc, 1),
                  "events": events, "per_event": round(per_event, 3),
                  "note": "what the per-op profiler's build adds to Invoke (its calls and "
                          "their call sites), the same for every event; the operator rows "
                          "(kernels, entry to return) leave it out"},
        functions=_functions(s.app, run.window), footprint=footprint(s, peak),
        arena=arena_json(s.arena), outputs=run.outputs, clock_mhz=fetch.clock_mhz,
        flash_accel=fetch.accel)
