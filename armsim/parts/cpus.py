"""CPU variants: compiler flags and the Unicorn CPU model, declared once."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from unicorn import arm_const

from armsim.errors import ArmsimError


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
    #: the compiler optimisation level of every build for it
    opt: str = "-O2"
    #: Arm's generic device of this core in CMSIS (Cortex_DFP's ARMCM<x>.h): TFLM builds
    #: name it (its DWT timer reads CYCCNT through it)
    cmsis_device: str = ""

    @property
    def all_flags(self) -> tuple[str, ...]:
        """Flags shared by every build (at this variant's -O level) plus this CPU's own."""
        return tuple(self.opt if f == DEFAULT_OPT else f for f in COMMON_FLAGS) + self.gcc_flags

    def with_opt(self, opt: str | None) -> "CpuVariant":
        """The same core built at another optimisation level (refused if GCC has none such)."""
        if opt is None or opt == self.opt:
            return self
        if opt not in OPT_LEVELS:
            raise ArmsimError(f"unknown optimisation level {opt!r}; one of "
                              f"{', '.join(OPT_LEVELS)}")

        return dataclasses.replace(self, opt=opt)


#: GCC's optimisation levels a build may use; -O2 is the default.
DEFAULT_OPT = "-O2"
OPT_LEVELS = ("-O0", "-O1", "-O2", "-O3", "-Os", "-Oz", "-Og", "-Ofast")


#: Flags every kernel build uses, whatever the CPU. ISO C mode turns floating-point
#: contraction off; -ffp-contract=fast lets cores with VFMA fuse a*b+c (one rounding, as
#: TensorFlow's own CPU kernels do with FMA).
COMMON_FLAGS: tuple[str, ...] = (
    "-mthumb", "-O2", "-g", "-std=c11", "-ffp-contract=fast", "-Wall", "-Wextra", "-Werror",
    "-ffunction-sections", "-fdata-sections", "-fno-common",
)

CPUS: dict[str, CpuVariant] = {
    v.name: v
    for v in (
        CpuVariant("m0", "Cortex-M0", "armv6-m", ("-mcpu=cortex-m0", "-mfloat-abi=soft"),
                   arm_const.UC_CPU_ARM_CORTEX_M0, None, cpuid=0x410CC200,
                   cmsis_device="ARMCM0"),
        # the M0+ runs the M0's instruction set (ARMv6-M) on a two-stage pipeline: its taken
        # branches cost one cycle less (DDI 0484 table 3.1); Unicorn's M0 model runs it
        CpuVariant("m0plus", "Cortex-M0+", "armv6-m", ("-mcpu=cortex-m0plus",
                                                        "-mfloat-abi=soft"),
                   arm_const.UC_CPU_ARM_CORTEX_M0, None, cpuid=0x410CC601,
                   cmsis_device="ARMCM0plus"),
        CpuVariant("m3", "Cortex-M3", "armv7-m", ("-mcpu=cortex-m3", "-mfloat-abi=soft"),
                   arm_const.UC_CPU_ARM_CORTEX_M3, None, cpuid=0x412FC231,
                   cmsis_device="ARMCM3"),
        CpuVariant("m4f", "Cortex-M4F", "armv7e-m",
                   ("-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
                   arm_const.UC_CPU_ARM_CORTEX_M4, "fpv4-sp-d16", cpuid=0x410FC241,
                   cmsis_device="ARMCM4"),
        CpuVariant("m4-nofp", "Cortex-M4 (no FPU)", "armv7e-m",
                   ("-mcpu=cortex-m4", "-mfloat-abi=soft"),
                   arm_const.UC_CPU_ARM_CORTEX_M4, None, cpuid=0x410FC241,
                   cmsis_device="ARMCM4"),
        CpuVariant("m7", "Cortex-M7 (FPv5 single precision)", "armv7e-m",
                   ("-mcpu=cortex-m7", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"),
                   arm_const.UC_CPU_ARM_CORTEX_M7, "fpv5-sp-d16", cpuid=0x411FC270,
                   cmsis_device="ARMCM7"),
        CpuVariant("m7d", "Cortex-M7 (FPv5 double precision)", "armv7e-m",
                   ("-mcpu=cortex-m7", "-mfloat-abi=hard", "-mfpu=fpv5-d16"),
                   arm_const.UC_CPU_ARM_CORTEX_M7, "fpv5-d16", cpuid=0x411FC270,
                   cmsis_device="ARMCM7"),
        CpuVariant("m33", "Cortex-M33", "armv8-m.main",
                   ("-mcpu=cortex-m33", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"),
                   arm_const.UC_CPU_ARM_CORTEX_M33, "fpv5-sp-d16", cpuid=0x410FD210,
                   cmsis_device="ARMCM33"),
    )
}

DEFAULT_CPU = "m4f"


#: Other spellings people write for a variant (after lower-casing and dropping "cortex-"),
#: with the note a spelling gets (None: none).
ALIASES: dict[str, tuple[str, str | None]] = {
    "m0+": ("m0plus", None), "m0p": ("m0plus", None),
    "m4": ("m4f", "--cpu m4 is the Cortex-M4 with its FPU (m4f), as nearly every M4 part "
                  "ships; m4-nofp is the M4 without one"),
    "m4fp": ("m4f", None), "m4-fp": ("m4f", None), "m4nofp": ("m4-nofp", None),
    "m4-nofpu": ("m4-nofp", None), "m7sp": ("m7", None), "m7dp": ("m7d", None),
}
#: Cores people ask for that armsim does not emulate (Unicorn 2.1 has no model of them).
NOT_EMULATED = {"m55": "Cortex-M55", "m85": "Cortex-M85", "m23": "Cortex-M23",
                "m35p": "Cortex-M35P", "m52": "Cortex-M52"}


def canonical_cpu(text: str) -> tuple[str, str | None]:
    """(variant name, note or None) for a CPU as people write it: any case, with or without
    ``cortex-`` (``Cortex-M4F``, ``m0+``, ``M4``); an ArmsimError naming the known ones."""
    key = text.strip().lower().replace("_", "-").replace(" ", "")
    for prefix in ("cortex-", "cortex", "arm-"):
        if key.startswith(prefix):
            key = key[len(prefix):]
    if key in CPUS:
        return key, None
    if key in ALIASES:
        return ALIASES[key]
    if key in NOT_EMULATED:
        raise ArmsimError(f"--cpu {text}: the {NOT_EMULATED[key]} is not emulated yet "
                          "(Unicorn 2.1 has no model of it); the closest emulated cores: "
                          "m33 (ARMv8-M), m7")
    raise ArmsimError(f"unknown CPU {text!r}; known: {', '.join(CPUS)} (any case, with or "
                      "without cortex-; m0+ and m4 accepted)")


def get_cpu(name: str) -> CpuVariant:
    """Look up a CPU variant by name as people write it (:func:`canonical_cpu`), with a clear
    error listing the known ones."""
    return CPUS[canonical_cpu(name)[0]]
