"""A plan's firmware on one emulated CPU: load the memory image once, then run inferences,
reading outputs and, on request, every op's output tensor.

This is the library layer a notebook calls (the CLI does the same)::

    import armsim
    graph, model = armsim.load_model("kws.keras")
    plan = armsim.plan(graph)
    s = armsim.Session(graph, plan, cpu="m4f")
    r = s.run(x)                 # r.outputs, r.predicted, r.instructions
    r = s.run(x, per_op=True)    # r.tensors: every op's output as the emulator computed it
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from armsim import __version__
from armsim.errors import ArmsimError, FirmwareFailed, LayoutError
from armsim.firmware.build import Build, build, check_plan_fits
from armsim.firmware.kernels import DEFAULT_KERNELS
from armsim.firmware.render import FINISH, NETWORK, op_symbol
from armsim.firmware.render_s8 import FAILED_OP, STATUS
from armsim.firmware.scratch import complete
from armsim.firmware.sources import UserSources, build_sources
from armsim.graph import Graph, Op
from armsim.machine.bounds import BoundsCheck
from armsim.machine.elf import ElfImage
from armsim.machine.emulator import Machine
from armsim.machine.memcheck import MemoryCheck
from armsim.machine.semihost import Semihost
from armsim.machine.stats import RunStats
from armsim.ops import registry
from armsim.parts.cpus import CpuVariant, get_cpu
from armsim.parts.flash import Fetch, usual_fetch
from armsim.parts.mcus import Mcu, get_mcu
from armsim.plan import Plan
from armsim.session.image_run import ReadSpec, parse_read

#: Instruction budget per MAC (FPU cores / soft-float cores) on top of a fixed floor.
BUDGET_FLOOR = 50_000_000
BUDGET_PER_MAC = {True: 60, False: 800}
#: Emulated instructions per second assumed when sizing the time limit (conservative).
ASSUMED_RATE = 5_000_000


def default_limits(g: Graph, cpu: CpuVariant) -> tuple[int, float]:
    """(instruction budget, seconds) scaled with the model's MACs and the CPU's float unit."""
    budget = BUDGET_FLOOR + registry.macs(g) * BUDGET_PER_MAC[cpu.fpu is not None]
    return budget, 30.0 + budget / ASSUMED_RATE


@dataclass
class Result:
    """One inference: outputs (flat, in the model's output order), class, counts, tensors,
    and (runs with check_bounds) the stores outside each op's buffers."""

    outputs: np.ndarray
    predicted: int | None
    stats: RunStats
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    #: stores outside the running op's buffers (runs with check_bounds)
    overruns: list[Any] = field(default_factory=list)
    #: memory errors of the firmware (runs with check_memory)
    memory_findings: list[Any] = field(default_factory=list)
    #: the run's estimated cycles with the session's flash set-up (docs/cycle-model.md)
    cycles_estimate: float = 0.0

    @property
    def instructions(self) -> int:
        """Instructions executed, exactly."""
        return self.stats.instructions


class Session:
    """One engine holding one build; weights written once, inputs per run.

    Every run faults on the unaligned accesses the chip faults on (machine/alignment.py).

    Attributes:
        graph, plan, cpu, mcu: what runs
        build: the ELF and how it was built
        machine: the emulator
        max_instructions, timeout_s: limits of every run
        fetch: the flash set-up and clock of each run's cycle estimate and latency (default:
            the part's usual one, flash.usual_fetch)
    """

    def __init__(self, graph: Graph, plan: Plan, cpu: CpuVariant | str = "m4f",
                 mcu: Mcu | str = "generic", kernels: str = DEFAULT_KERNELS,
                 max_instructions: int | None = None, timeout_s: float | None = None,
                 elf: str | Path | None = None, counting: str = "auto",
                 load_weights: bool = True, sources: UserSources | None = None,
                 output: str | None = None) -> None:
        self.graph = graph
        self.cpu = get_cpu(cpu) if isinstance(cpu, str) else cpu
        self.mcu = get_mcu(mcu) if isinstance(mcu, str) else mcu
        #: the plan run: an int8 plan is completed with this CPU's CMSIS-NN scratch
        self.plan = plan = complete(plan, self.cpu)
        semihost = None
        self.entry = sources.entry if sources is not None else None
        if sources is not None:
            if graph.quantized:
                raise ArmsimError("--sources runs hand-written float32 code; int8 (.tflite) "
                                  "models are not supported with --sources yet")
            check_plan_fits(plan, self.mcu)
            path = build_sources(self.cpu, self.mcu, sources, plan, __version__)
            self.build: Build = Build(path, self.cpu, plan, self.mcu, cached=False,
                                      kernels="user sources")
            semihost = Semihost()
            output = output or "output"
        elif elf is None:
            self.build = build(self.cpu, plan, self.mcu, kernels=kernels)
        else:
            self.build = Build(Path(elf), self.cpu, plan, self.mcu, cached=True,
                               kernels="user ELF")
            semihost = Semihost()  # a user's firmware may start up through semihosting
        self.image = ElfImage.load(self.build.elf)
        self.machine = Machine(self.image, self.cpu, self.mcu, counting=counting,
                               semihost=semihost)
        #: where the firmware leaves its result when not in the plan's output buffer
        self.output_spec: ReadSpec | None = None
        if output is not None:
            self.output_spec = output_spec(output, self.image, graph)
        budget, seconds = default_limits(graph, self.cpu)
        self.max_instructions = max_instructions or budget
        self.timeout_s = timeout_s or seconds
        self.fetch: Fetch = usual_fetch(self.mcu.name, self.mcu.clock_hz)
        if load_weights:
            self.write_buffers(plan.pack(plan.constant_tensors()))

    # -- memory -------------------------------------------------------------------------------
    def blocks(self, packed: Mapping[str, np.ndarray]) -> list[tuple[int, bytes]]:
        """Memory-order arrays by buffer name -> (address, bytes) blocks."""
        out = []
        for name, arr in packed.items():
            b = self.plan[name]
            a = np.asarray(arr, np.dtype(b.dtype).newbyteorder("<")).reshape(-1)
            if a.size != b.count:
                raise LayoutError(f"{name}: {a.size} values, the plan needs {b.count}")
            out.append((self.address(b.name), a.tobytes()))
        return out

    def write_buffers(self, packed: Mapping[str, np.ndarray]) -> None:
        """Write memory-order arrays (by buffer name) at their addresses."""
        self.machine.write_blocks(self.blocks(packed))

    def address(self, buffer: str) -> int:
        """A buffer's address (flash-resident weights through their ELF symbol)."""
        b = self.plan[buffer]
        return b.address if b.address is not None else self.image.symbol(b.symbol).address

    def write_input(self, x: Any) -> None:
        """One input (the model's input shape) into the input buffer; for a model with
        several inputs, a tuple of arrays (its input order), each into its own buffer."""
        xs = x if isinstance(x, tuple) else (x,)
        if len(xs) != len(self.graph.inputs):
            raise ArmsimError(f"model '{self.graph.name}' has {len(self.graph.inputs)} inputs "
                              f"({', '.join(self.graph.inputs)}); {len(xs)} given")
        blocks = []
        for name, a in zip(self.graph.inputs, xs):
            b = self.plan.for_tensor(name)
            data = b.pack(a).astype(np.dtype(b.dtype).newbyteorder("<")).tobytes()
            blocks.append((self.address(b.name), data))
        self.machine.write_blocks(blocks)

    def read_buffer(self, name: str) -> np.ndarray:
        """A buffer's contents as its tensor (unpacked from memory order)."""
        b = self.plan[name]
        raw = self.machine.read(self.address(name), b.nbytes)
        return b.unpack(np.frombuffer(raw, np.dtype(b.dtype).newbyteorder("<")))

    def read_tensor(self, tensor: str) -> np.ndarray:
        """A graph tensor as memory holds it now (through Flatten/Reshape aliases)."""
        b = self.plan.for_tensor(tensor)
        arr = self.read_buffer(b.name)
        return arr.reshape(self.graph.tensors[tensor].shape)

    def output_spans(self) -> list[tuple[int, int]]:
        """(address, element count) of each output the firmware leaves, in output order."""
        if self.output_spec is not None:
            return [(self.output_spec.address, self.output_spec.count)]
        return [(self.address(self.plan.for_tensor(n).name), self.graph.tensors[n].size)
                for n in self.graph.outputs]

    def outputs(self) -> np.ndarray:
        """The graph's outputs as memory holds them, flat and joined in output order."""
        if self.output_spec is not None:
            o = self.output_spec
            return np.frombuffer(self.machine.read(o.address, o.nbytes), "<f4").astype(
                np.float32)
        return np.concatenate([self.read_tensor(n).reshape(-1) for n in self.graph.outputs])

    def predicted(self) -> int | None:
        """The class the firmware computed (classifiers), else None."""
        if not registry.is_classifier(self.graph):
            return None
        if "armsim_predicted" not in self.image.symbols:  # an ELF built elsewhere
            return int(np.argmax(self.outputs()))
        return self.machine.read_i32("armsim_predicted")

    # -- running ------------------------------------------------------------------------------
    def entry_address(self) -> int | None:
        """Where the network starts: armsim's run function, or the user's --entry."""
        for name in (self.entry, NETWORK):
            sym = self.image.symbols.get(name) if name else None
            if sym is not None:
                return sym.address
        return None

    def op_entries(self) -> list[tuple[int, Op, int]]:
        """(op index, op, entry address) of every op that runs code, then the finish step."""
        out = []
        for i, op in enumerate(self.graph.ops):
            sym = self.image.symbols.get(op_symbol(i, op))
            if sym is not None:
                out.append((i, op, sym.address))
        return out

    def run(self, x: np.ndarray | None = None, per_op: bool = False,
            on_stop: Callable[[int], None] | None = None,
            check_bounds: bool = False, check_memory: bool = False) -> Result:
        """Run one inference from reset (``x`` written first when given).

        With ``per_op`` the run stops at each op's entry and reads the outputs of the ops
        before it, so every intermediate is seen before the arena reuses its bytes.
        ``on_stop(k)`` is called at the k-th stop (k = len(entries) at the end).
        With ``check_bounds`` every store into the plan's memory during an op's call must
        land in that op's output or scratch buffer; the others are ``Result.overruns``.
        """
        if x is not None:
            self.write_input(x)
        m = self.machine
        m.begin(self.max_instructions, self.timeout_s)
        sanitizer = self._memory_check() if check_memory else None
        tensors: dict[str, np.ndarray] = {}
        bounds = None
        if check_bounds:
            bounds = BoundsCheck(m.uc, self.plan, self.image)
        if per_op or on_stop is not None or bounds is not None:
            entries = self.op_entries()
            done = 0
            stops = [a for _i, _op, a in entries] + [self.image.symbol(FINISH).address]
            for k, addr in enumerate(stops):
                try:
                    m.go(stop=addr)
                except BaseException:
                    if bounds is not None:
                        bounds.detach()
                    raise
                if bounds is not None:  # the op about to run (None: the finish)
                    bounds.set_op(entries[k][0] if k < len(entries) else None)
                if on_stop is not None:
                    on_stop(k)
                limit = entries[k][0] if k < len(entries) else len(self.graph.ops)
                if per_op:
                    for op in self.graph.ops[done:limit]:
                        tensors[op.outputs[0]] = self.read_tensor(op.outputs[0])
                done = limit
        try:
            stats = m.finish()
        finally:
            if bounds is not None:
                bounds.detach()
            found = sanitizer.finish() if sanitizer is not None else []
        if on_stop is not None:
            on_stop(-1)
        self.check_exit()
        self.check_kernel_status()
        return Result(self.outputs(), self.predicted(), stats, tensors,
                      list(bounds.found) if bounds is not None else [], found,
                      self.machine.cycles_so_far(self.fetch))

    def _memory_check(self) -> Any:
        """The memory check on this run, the plan's SRAM buffers counted as written (the
        loader or the script wrote them before the run)."""
        mc = MemoryCheck(self.machine)
        for b in self.plan.buffers:
            if b.address is not None and b.region != "arena":
                mc.mark_written(b.address, b.nbytes)
        return mc


    def resume(self) -> Result:
        """Run on from wherever the CPU is (after a script's set-up) to the end."""
        stats = self.machine.finish()
        self.check_exit()
        self.check_kernel_status()
        return Result(self.outputs(), self.predicted(), stats,
                      cycles_estimate=self.machine.cycles_so_far(self.fetch))

    def check_exit(self) -> None:
        """An ArmsimError when hosted firmware (``--sources``) exited with a failure."""
        sh = self.machine.semihost
        if sh is None or sh.exit is None or sh.exit.status == 0:
            return
        pc = self.machine.pc
        raise FirmwareFailed(f"the firmware exited with status {sh.exit.status} "
                          f"({sh.exit.reason}) at {self.image.describe(pc)}"
                          + (f"; it printed:\n{sh.output.get('stdout', '')[-2000:]}"
                             if sh.output.get("stdout") else ""))

    def check_kernel_status(self) -> None:
        """An ArmsimError when a CMSIS-NN call of the last run did not return success (int8
        firmware records the first such op and its status)."""
        if FAILED_OP not in self.image.symbols:
            return
        i = self.machine.read_i32(FAILED_OP)
        if i < 0:
            return
        status = self.machine.read_i32(STATUS)
        names = {-1: "ARM_CMSIS_NN_ARG_ERROR", -2: "ARM_CMSIS_NN_NO_IMPL_ERROR",
                 -3: "ARM_CMSIS_NN_FAILURE"}
        op = self.graph.ops[i] if 0 <= i < len(self.graph.ops) else None
        raise FirmwareFailed(f"CMSIS-NN returned {names.get(status, status)} in op {i}"
                          + (f" ({op.name}, {op.kind})" if op else "")
                          + ": the kernel refused its arguments and its output is not computed")


def output_spec(text: str, image: ElfImage, g: Graph) -> ReadSpec:
    """``--output SYMBOL|ADDRESS[:COUNT[:TYPE]]`` against the model: float32, as many values as
    the model's outputs (a symbol's own size must hold them)."""
    n = sum(g.tensors[t].size for t in g.outputs)
    try:
        spec = parse_read(text, image, "f32", n)
    except ArmsimError as e:
        if text == "output" and "output" not in image.symbols:
            raise ArmsimError(f"{image.path.name} has no symbol 'output': define `float "
                              f"output[{n}]` for the result, or say where it is with "
                              "--output SYMBOL|ADDRESS") from None
        raise ArmsimError(str(e).replace("--read", "--output")) from None
    if spec.type != "f32":
        raise ArmsimError(f"--output {text}: the model's outputs are float32; give TYPE f32")
    if spec.count != n:
        raise ArmsimError(f"--output {text}: {spec.count} values; the model has {n} outputs")
    return spec


