"""The run flow: weights and image -> layout -> ELF on the emulator -> outputs vs host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .build import DEFAULT_KERNELS, Build, build
from .cpus import CpuVariant
from .elf import ElfImage
from .emulator import DEFAULT_MAX_INSTRUCTIONS, DEFAULT_TIMEOUT_S, Machine, RunStats
from .layout import Layout
from .mcu import Mcu
from .script.check import tensors
from .script.program import Program
from .script.runner import RunLog, Runner
from .script.target import MachineTarget


@dataclass(frozen=True)
class Inference:
    """One emulated inference."""

    outputs: np.ndarray
    predicted: int
    stats: RunStats


def packed_blocks(layout: Layout, packed: Mapping[str, np.ndarray]) -> list[tuple[int, bytes]]:
    """Memory-order float32 arrays -> (address, bytes) blocks at their buffer addresses."""
    out = []
    for name, arr in packed.items():
        b = layout[name]
        a = np.asarray(arr, "<f4").reshape(-1)
        if a.size != b.count:
            raise ValueError(f"{name}: {a.size} values, layout needs {b.count}")
        out.append((b.address, a.tobytes()))
    return out


class Simulator:
    """A built ELF on one engine: write weights once, then run inferences."""

    def __init__(self, layout: Layout, cpu: CpuVariant, mcu: Mcu,
                 max_instructions: int = DEFAULT_MAX_INSTRUCTIONS,
                 timeout_s: float = DEFAULT_TIMEOUT_S, kernels: str = DEFAULT_KERNELS,
                 elf: str | None = None) -> None:
        self.layout = layout
        if elf is None:
            self.build: Build = build(cpu, layout, mcu, kernels=kernels)
        else:
            from pathlib import Path

            self.build = Build(Path(elf), cpu, layout, mcu, cached=True, kernels="user ELF")
        self.image = ElfImage.load(self.build.elf)
        self.machine = Machine(self.image, cpu, mcu)
        self.max_instructions = max_instructions
        self.timeout_s = timeout_s

    def write(self, blocks: list[tuple[int, bytes]]) -> None:
        """Write memory blocks (weights, input, or a script's coalesced writes)."""
        self.machine.write_blocks(blocks)

    def write_tensors(self, packed: Mapping[str, np.ndarray]) -> None:
        """Write memory-order tensors at their layout addresses."""
        self.machine.write_blocks(packed_blocks(self.layout, packed))

    def run(self) -> Inference:
        """Run the network from reset on what memory holds now."""
        self.machine.begin(self.max_instructions, self.timeout_s)
        return self.finish()

    def finish(self) -> Inference:
        """Run on from wherever the CPU is (e.g. after a script's G) to the halt."""
        stats = self.machine.finish()
        return Inference(self.machine.read_f32("armsim_output"),
                         self.machine.read_i32("armsim_predicted"), stats)

    def run_script(self, program: Program, allow_outside: bool = False) -> tuple[RunLog, dict[str, np.ndarray]]:
        """Reset, execute a script's statements on the CPU, and read its layout tensors.

        Raises ScriptError when the script's writes conflict or do not fit the layout.
        """
        self.machine.begin(self.max_instructions, self.timeout_s)
        log = Runner(program, MachineTarget(self.machine), self.machine.map, self.layout,
                     allow_outside).run()
        return log, tensors(log.writes, self.layout)

    def infer(self, packed_input: np.ndarray) -> Inference:
        """Write one input image (memory order) and run."""
        self.write_tensors({"input": packed_input})
        return self.run()
