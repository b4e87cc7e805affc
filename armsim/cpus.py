"""CPU variants: compiler flags and the Unicorn CPU model, declared once."""

from __future__ import annotations

from dataclasses import dataclass

from unicorn import arm_const

from .errors import ArmsimError


@dataclass(frozen=True)
class CpuVariant:
    """One Cortex-M target: how to compile for it and how to emulate it."""

    name: str
    title: str
    arch: str
    gcc_flags: tuple[str, ...]
    uc_cpu: int
    fpu: str | None
    #: the SCB CPUID register's value on this core
    cpuid: int = 0

    @property
    def all_flags(self) -> tuple[str, ...]:
        """Flags shared by every build plus this CPU's own."""
        return COMMON_FLAGS + self.gcc_flags


#: Flags every kernel build uses, whatever the CPU.
COMMON_FLAGS: tuple[str, ...] = (
    "-mthumb", "-O2", "-g", "-std=c11", "-Wall", "-Wextra", "-Werror",
    "-ffunction-sections", "-fdata-sections", "-fno-common",
)

CPUS: dict[str, CpuVariant] = {
    v.name: v
    for v in (
        CpuVariant("m4f", "Cortex-M4F", "armv7e-m",
                   ("-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
                   arm_const.UC_CPU_ARM_CORTEX_M4, "fpv4-sp-d16", cpuid=0x410FC241),
    )
}

DEFAULT_CPU = "m4f"


def get_cpu(name: str) -> CpuVariant:
    """Look up a CPU variant by name, with a clear error listing the known ones."""
    try:
        return CPUS[name]
    except KeyError:
        raise ArmsimError(f"unknown CPU {name!r}; known: {', '.join(CPUS)}") from None
