"""The emulated CPU as a script target: memory, registers, LOAD, G and BS."""

from __future__ import annotations

import os
from pathlib import Path

from unicorn import UcError

from ..elf import ElfImage
from ..emulator import Machine
from ..errors import ArmsimError, ScriptError
from .model import Script


class MachineTarget:
    """Runs script commands on a :class:`Machine` whose ELF is the script's ``%L``."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self.extra_symbols: dict[str, int] = {}

    def write_batch(self, script: Script) -> None:
        """Coalesced writes straight into emulated memory."""
        self.machine.write_blocks(script.blocks())

    def read(self, address: int, size: int) -> bytes:
        """Emulated memory as it stands now."""
        try:
            return self.machine.read(address, size)
        except UcError:
            raise ScriptError(f"0x{address:08X} is not mapped") from None

    def set_reg(self, name: str, value: int) -> None:
        self.machine.set_reg(name, value)

    def get_reg(self, name: str) -> int:
        return self.machine.get_reg(name)

    def symbol(self, name: str) -> int | None:
        sym = self.machine.image.symbols.get(name)
        if sym is not None:
            return sym.address
        return self.extra_symbols.get(name)

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
        for name, sym in image.symbols.items():
            self.extra_symbols.setdefault(name, sym.address)
        if "NOCODE" not in options and not any(o in options for o in ("INCREMENTAL", "NORESET")):
            self.machine.reset_cpu()
        return f"LOAD {path}: {len(image.segments)} segment(s)" + (
            ", symbols only" if "NOCODE" in options else "")

    def go(self, start: int | None, stop: int | None) -> str:
        before = self.machine.executed
        pc = self.machine.go(start, stop)
        return (f"G stopped at {self.machine.image.describe(pc)} after "
                f"{self.machine.executed - before:,} instructions")

    def breakpoint(self, address: int) -> None:
        self.machine.breakpoints.add(address & ~1)


def resolve_inside(path: str, base_dir: str) -> Path:
    """A LOAD path resolved against the script's folder; refused if it leaves that tree."""
    rel = path.replace("\\", "/")
    if os.path.isabs(rel) or (len(rel) > 1 and rel[1] == ":"):
        raise ScriptError(f"LOAD {path}: absolute paths are refused; give a path relative to "
                          "the script's folder")
    base = Path(base_dir).resolve()
    p = (base / rel).resolve()
    if p != base and base not in p.parents:
        raise ScriptError(f"LOAD {path}: resolves to {p}, outside the script's folder {base}")
    if not p.is_file():
        raise ScriptError(f"LOAD {path}: file not found ({p})")
    return p
