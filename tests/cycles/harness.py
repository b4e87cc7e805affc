"""Self-timing loops for the cycle model's facts: a snippet runs N times between the labels
bench_start and bench_end, as a program timing itself with DWT->CYCCNT around a loop would;
``per_iteration`` gives the snippet's own cycles (the loop's subs/bne and constant set-up
cancel out: (T(2N) - T(N)) / N, less the same for an empty loop)."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

from armsim.firmware.toolchain import find_gcc
from armsim.session.image_run import run_image

HERE = Path(__file__).resolve().parent
LINK = HERE.parent / "kernels" / "tiny.ld"
MCPU = {"m3": "cortex-m3", "m4f": "cortex-m4", "m7": "cortex-m7"}
#: the FPU each core's snippets are assembled for (the M3 has none)
FPU = {"m4f": "fpv4-sp-d16", "m7": "fpv5-d16"}
#: CPACR: full access to CP10/CP11, so VFP snippets run (the emulator faults them otherwise,
#: as the chip does)
FPU_ON = ("    ldr r6, =0xE000ED88\n    ldr r5, [r6]\n    orr r5, r5, #(0xF << 20)\n"
          "    str r5, [r6]\n    dsb\n    isb")

TEMPLATE = """    .syntax unified
    .cpu {mcpu}
    .thumb
    .section .isr_vector, "a"
    .word 0x20008000
    .word Reset_Handler
    .text
    .type Reset_Handler, %function
    .global Reset_Handler
Reset_Handler:
{prologue}
    ldr r0, =0x20001000        @ data the snippets load and store: words holding r0
    str r0, [r0]
    str r0, [r0, #4]
    str r0, [r0, #8]
    str r0, [r0, #12]
    movs r2, #4
    movs r7, #{n}
    .global bench_start
bench_start:
    .balign 4
{pad}
1:
{snippet}
    subs r7, #1
    bne 1b
    .global bench_end
bench_end:
    b bench_end
    .ltorg
"""


@lru_cache(maxsize=None)
def total(cpu: str, snippet: str, n: int, unaligned: bool, work: str) -> float:
    """Estimated cycles from bench_start to bench_end."""
    src = Path(work) / f"b{abs(hash((cpu, snippet, n, unaligned)))}.S"
    src.write_text(TEMPLATE.format(mcpu=MCPU[cpu], n=n, snippet=snippet,
                                   pad="    nop" if unaligned else "",
                                   prologue=FPU_ON if cpu in FPU else ""))
    elf = src.with_suffix(".elf")
    fpu = ["-mfloat-abi=hard", f"-mfpu={FPU[cpu]}"] if cpu in FPU else []
    subprocess.run([find_gcc(), f"-mcpu={MCPU[cpu]}", "-mthumb", *fpu, "-nostdlib",
                    "-nostartfiles", "-T", str(LINK), str(src), "-o", str(elf)], check=True)
    res = run_image(elf, "generic", cpu, between=("bench_start", "bench_end"))
    assert res.window is not None
    return res.window.cycles_estimate


def per_iteration(cpu: str, snippet: str, work: Path, unaligned: bool = False) -> float:
    """The snippet's estimated cycles per loop iteration."""
    def slope(body: str) -> float:
        return (total(cpu, body, 16, unaligned, str(work))
                - total(cpu, body, 8, unaligned, str(work))) / 8
    return slope(snippet) - slope("")
