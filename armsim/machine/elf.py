"""Read what the emulator needs from an ELF: loadable segments and symbols (pyelftools)."""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from elftools.common.exceptions import ELFError as PyElfError
from elftools.elf.elffile import ELFFile

from armsim.errors import ElfError
from armsim.machine.dwarf import CType, DebugInfo
from armsim.parts.cpus import CpuVariant


@dataclass(frozen=True)
class Segment:
    """A PT_LOAD segment: file bytes go to ``paddr`` (the load address, LMA)."""

    paddr: int
    vaddr: int
    data: bytes
    memsz: int
    flags: str


@dataclass(frozen=True)
class Symbol:
    """A function or object symbol; functions have the Thumb bit stripped."""

    name: str
    address: int
    size: int
    is_function: bool


class ElfImage:
    """Segments, entry point and symbols of one ARM ELF executable."""

    def __init__(self, path: Path, entry: int, segments: list[Segment], symbols: list[Symbol],
                 attributes: dict[str, str]) -> None:
        self.path = path
        self.entry = entry
        self.segments = segments
        self.symbols = {s.name: s for s in symbols}
        self.functions = sorted((s for s in symbols if s.is_function and s.size),
                                key=lambda s: s.address)
        self._starts = [f.address for f in self.functions]
        self.attributes = attributes
        self.sections: dict[str, tuple[int, int, str, int]] = {}
        self._lines: tuple[list[int], list[tuple[str, int]]] | None = None
        self._debug: DebugInfo | None = None

    def variable(self, name: str) -> tuple[int, CType] | None:
        """(address, C type) of static variable ``name`` from the DWARF debug information
        (None: no such variable, or built without -g)."""
        if self._debug is None:
            self._debug = DebugInfo(self.path)
        return self._debug.variables.get(name)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "ElfImage":
        """Parse ``path``; any pyelftools error becomes an :class:`ElfError`."""
        p = Path(path)
        try:
            with p.open("rb") as fh:
                ef = ELFFile(fh)
                if ef.get_machine_arch() != "ARM" or ef.elfclass != 32:
                    raise ElfError(f"{p}: not a 32-bit ARM ELF ({ef.get_machine_arch()})")
                entry = int(ef.header["e_entry"])
                segs = []
                for s in ef.iter_segments():
                    if s["p_type"] != "PT_LOAD":
                        continue
                    fl = s["p_flags"]
                    flags = ("r" if fl & 4 else "") + ("w" if fl & 2 else "") + ("x" if fl & 1 else "")
                    segs.append(Segment(int(s["p_paddr"]), int(s["p_vaddr"]), s.data(),
                                        int(s["p_memsz"]), flags))
                syms: list[Symbol] = []
                tab = ef.get_section_by_name(".symtab")
                if tab is not None:
                    for s in tab.iter_symbols():
                        kind = s["st_info"]["type"]
                        if not s.name or kind not in ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE"):
                            continue
                        if kind == "STT_NOTYPE" and (s["st_info"]["bind"] != "STB_GLOBAL"
                                                     or s.name.startswith("$")):
                            continue
                        addr = int(s["st_value"])
                        is_fn = kind == "STT_FUNC"
                        syms.append(Symbol(s.name, addr & ~1 if is_fn else addr,
                                           int(s["st_size"]), is_fn))
                attrs = _arm_attributes(ef)
                sections = {sec.name: (int(sec["sh_addr"]), int(sec["sh_size"]),
                                       str(sec["sh_type"]), int(sec["sh_flags"]))
                            for sec in ef.iter_sections() if sec.name}
        except OSError as e:
            raise ElfError(f"{p}: cannot read: {e.strerror or e}") from None
        except (PyElfError, ValueError, KeyError, IndexError, AssertionError, TypeError) as e:
            raise ElfError(f"{p}: not a valid ELF file: {e}") from None
        except Exception as e:  # pyelftools raises assorted errors on corrupt input
            if isinstance(e, ElfError):
                raise
            raise ElfError(f"{p}: corrupt ELF file: {type(e).__name__}: {e}") from None
        if not segs:
            raise ElfError(f"{p}: has no loadable segments")
        image = cls(p, entry, segs, syms, attrs)
        image.sections = sections
        return image

    def symbol(self, name: str) -> Symbol:
        """The symbol called ``name``; an ElfError if the ELF lacks it."""
        try:
            return self.symbols[name]
        except KeyError:
            raise ElfError(f"{self.path}: symbol '{name}' not found") from None

    def function_at(self, address: int) -> Symbol | None:
        """The function whose [address, address+size) holds ``address``."""
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0:
            f = self.functions[i]
            if f.address <= address < f.address + f.size:
                return f
        return None

    def source_line(self, address: int) -> tuple[str, int] | None:
        """(file, line) of the code at ``address`` from the DWARF line table, if any."""
        if self._lines is None:
            self._lines = _line_table(self.path, lambda a: self.function_at(a) is not None)
        addrs, rows = self._lines
        i = bisect.bisect_right(addrs, address) - 1
        f = self.function_at(address)
        if i < 0 or (f is not None and addrs[i] < f.address):
            return None  # no line row inside this function (built without -g)
        return rows[i]

    def line_address(self, file: str, line: int) -> tuple[int, int] | None:
        """(address, line) of the code of source line ``line`` of ``file`` (matched by base
        name, case-insensitively, as uVision's ``\\file.c\\line``): the lowest address of
        that line, or of the first later line with code within 20 lines; None if none."""
        if self._lines is None:
            self._lines = _line_table(self.path, lambda a: self.function_at(a) is not None)
        addrs, rows = self._lines
        base = file.replace("\\", "/").rsplit("/", 1)[-1].lower()
        best: tuple[int, int] | None = None
        for a, (name, ln) in zip(addrs, rows):
            if name.replace("\\", "/").rsplit("/", 1)[-1].lower() != base or \
                    not line <= ln < line + 20:
                continue
            if best is None or (ln, a) < (best[1], best[0]):
                best = (a, ln)
        return best

    def describe(self, address: int) -> str:
        """``function+0xNN`` for an address, or the bare hex address."""
        f = self.function_at(address & ~1)
        return f"{f.name}+0x{(address & ~1) - f.address:x}" if f else f"0x{address:08X}"


def _arm_attributes(ef: object) -> dict[str, str]:
    """The ELF's .ARM.attributes as tag -> value text (empty if absent or unreadable)."""
    out: dict[str, str] = {}
    sec = ef.get_section_by_name(".ARM.attributes")  # type: ignore[attr-defined]
    if sec is None:
        return out
    try:
        for sub in sec.iter_subsections():
            for subsub in sub.iter_subsubsections():
                for attr in subsub.iter_attributes():
                    out[str(attr.tag)] = str(attr.value)
    except Exception:  # attributes are advisory; a malformed table is ignored here
        return {}
    return out


def _line_table(path: Path, keep: "Callable[[int], bool]" = lambda a: True
                ) -> tuple[list[int], list[tuple[str, int]]]:
    """Sorted (address -> (file, line)) rows of every DWARF line program in the ELF.

    A sequence is kept only when ``keep`` accepts its first address: the linker leaves the
    sequences of sections it discarded (``--gc-sections``) at address 0, where they would
    shadow the real code of a part whose flash starts at 0."""
    rows: list[tuple[int, str, int]] = []
    try:
        with path.open("rb") as fh:
            ef = ELFFile(fh)
            if not ef.has_dwarf_info():
                return [], []
            dwarf = ef.get_dwarf_info()
            for cu in dwarf.iter_CUs():
                lp = dwarf.line_program_for_CU(cu)
                if lp is None:
                    continue
                files = lp["file_entry"]
                v5 = lp.header["version"] >= 5
                seq: list[tuple[int, str, int]] = []
                for entry in lp.get_entries():
                    st = entry.state
                    if st is None:
                        continue
                    if st.end_sequence:
                        if seq and keep(seq[0][0]):
                            rows += seq
                        seq = []
                        continue
                    idx = st.file if v5 else st.file - 1
                    name = files[idx].name.decode(errors="replace") if 0 <= idx < len(files) else "?"
                    seq.append((st.address, name, st.line))
                if seq and keep(seq[0][0]):
                    rows += seq
    except Exception:  # debug info is optional: no lines rather than a failed profile
        return [], []
    rows.sort(key=lambda r: r[0])
    return [r[0] for r in rows], [(r[1], r[2]) for r in rows]


#: Tag_CPU_arch values (ARM ELF attributes) each CPU variant can execute.
_RUNS = {"armv6-m": {"11", "12"}, "armv7-m": {"10", "11", "12"},
         "armv7e-m": {"10", "11", "12", "13"}, "armv8-m.main": {"10", "11", "12", "13", "16", "17"}}

_ARCH_NAMES = {"10": "ARMv7(-M)", "11": "ARMv6-M", "12": "ARMv6S-M", "13": "ARMv7E-M",
               "16": "ARMv8-M baseline", "17": "ARMv8-M mainline"}


def check_attributes(image: ElfImage, cpu: CpuVariant) -> None:
    """Refuse an ELF built for an architecture or FPU the chosen CPU does not have."""
    arch = image.attributes.get("TAG_CPU_ARCH")
    profile = image.attributes.get("TAG_CPU_ARCH_PROFILE")
    if profile is not None and profile not in ("77", "M"):
        raise ElfError(f"{image.path}: built for the {chr(int(profile)) if profile.isdigit() else profile}"
                       f"-profile, not a Cortex-M (M-profile) core")
    if arch is not None and arch not in _RUNS.get(cpu.arch, {arch}):
        raise ElfError(f"{image.path}: built for {_ARCH_NAMES.get(arch, 'Tag_CPU_arch ' + arch)}, "
                       f"which {cpu.title} ({cpu.arch}) cannot run; rebuild with --cpu {cpu.name} "
                       "flags or choose the matching --cpu")
    fp = image.attributes.get("TAG_FP_ARCH")
    if fp not in (None, "0") and not cpu.fpu:
        raise ElfError(f"{image.path}: uses floating-point instructions (Tag_FP_arch {fp}); "
                       f"{cpu.title} has no FPU")
    if fp in ("7", "8") and cpu.fpu == "fpv4-sp-d16":
        raise ElfError(f"{image.path}: uses FPv5 instructions; {cpu.title} has FPv4")
