"""Which Unicorn build armsim runs on: version, compiler, architectures (read, not assumed).

``scripts/setup.sh`` builds Unicorn from its source distribution for the ARM target only
(``scripts/build_unicorn.sh``); a plain ``pip install`` takes the PyPI wheel, which carries
every architecture. Both load the same way, so this module reads the library that was
actually loaded: its version (``uc_version``), the compiler named in its ``.comment``
section (pyelftools), and which architectures it supports (``uc_arch_supported``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import unicorn
from elftools.elf.elffile import ELFFile
from unicorn import unicorn_const as K
from unicorn.unicorn_py3 import unicorn as impl  # 2.1's module layout

#: The Unicorn release armsim pins (pyproject.toml, scripts/build_unicorn.sh): 2.1.3 checks
#: for an exit inline at every block start and after every guest load and store, where 2.1.4
#: calls a helper function there (12-17 % slower on armsim's firmware, measured here); the
#: tests' fault kinds and exact counts were verified on it.
PINNED = "2.1.3"


@dataclass(frozen=True)
class EngineBuild:
    """The loaded Unicorn library.

    Attributes:
        version: Unicorn's version string
        library: path of the shared library loaded
        compiler: the compiler its ``.comment`` section names ("" when it has none)
        arm_only: True when the library supports no architecture but ARM (armsim's build)
    """

    version: str
    library: str
    compiler: str
    arm_only: bool

    @property
    def kind(self) -> str:
        """"source build" (ARM only, as setup.sh builds it) or "PyPI wheel"."""
        return "source build, ARM only" if self.arm_only else "PyPI wheel, all architectures"

    def __str__(self) -> str:
        comp = f", {self.compiler}" if self.compiler else ""
        return f"unicorn {self.version} ({self.kind}{comp})"


def _compiler(path: str) -> str:
    """The first entry of an ELF's .comment section, e.g. "GCC 12.2.0 (Debian 12.2.0-14)"."""
    try:
        with open(path, "rb") as f:
            sec = ELFFile(f).get_section_by_name(".comment")
            if sec is None:
                return ""
            text = sec.data().split(b"\0")[0].decode("ascii", "replace")
    except (OSError, ValueError, ImportError):
        return ""
    return text.strip()


@lru_cache(maxsize=1)
def engine_build() -> EngineBuild:
    """The Unicorn build this process runs (read once)."""
    lib = getattr(getattr(unicorn.unicorn, "uclib", None), "_name", "") or ""
    if not lib:
        lib = getattr(impl.uclib, "_name", "")
    others = [a for a in ("X86", "ARM64", "MIPS", "SPARC", "PPC", "RISCV", "M68K", "S390X",
                          "TRICORE") if hasattr(K, f"UC_ARCH_{a}")]
    arm_only = not any(unicorn.uc_arch_supported(getattr(K, f"UC_ARCH_{a}")) for a in others)
    return EngineBuild(unicorn.__version__, str(Path(lib)) if lib else "", _compiler(lib),
                       arm_only)
