#!/usr/bin/env python3
"""What the M7's run-time address count (armsim/datamem.py) costs in emulation speed: a loop
of loads and stores, half on SRAM1 (AXI) and half on DTCM, run on the STM32F746 preset (the
count on) and on the generic part with the M7 core (the count on, no AXI areas), and on the
generic part with the M4F core (no count). Prints instructions per second of each.

    python scripts/bench_datamem.py [--passes 50000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from armsim.firmware.toolchain import find_gcc  # noqa: E402
from armsim.session.image_run import ImageRunner  # noqa: E402

BODY = ("    ldr r1, [r3]\n    ldr r4, [r5]\n    str r1, [r3, #4]\n    adds r1, r4\n"
        "    str r1, [r5, #8]\n    ldr r6, [r3, #12]\n    adds r0, r6\n")
SOURCE = """    .syntax unified
    .thumb
    .section .isr_vector, "a"
    .word 0x20008000
    .word Reset_Handler
    .text
    .type Reset_Handler, %function
    .global Reset_Handler
Reset_Handler:
    movw r3, #0
    movt r3, #0x2001          @ SRAM1 on the STM32F746
    movw r5, #0x2000
    movt r5, #0x2000          @ DTCM
    movw r7, #{passes}
1:
{body}
    subs r7, #1
    bne 1b
    .global bench_end
bench_end:
    b bench_end
"""


def build(work: Path, mcpu: str, passes: int) -> Path:
    src = work / f"{mcpu}.S"
    src.write_text(SOURCE.format(passes=passes, body=BODY * 20))
    elf = src.with_suffix(".elf")
    subprocess.run([find_gcc(), f"-mcpu={mcpu}", "-mthumb", "-nostdlib", "-nostartfiles",
                    "-T", str(ROOT / "tests" / "kernels" / "tiny.ld"), str(src), "-o",
                    str(elf)], check=True)
    return elf


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passes", type=int, default=50000, help="loop passes (at most 65535)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="armsim-datamem-"))
    m7, m4 = build(work, "cortex-m7", args.passes), build(work, "cortex-m4", args.passes)
    print("| part, core | count | instructions | seconds | MIPS |")
    print("| --- | --- | --- | --- | --- |")
    for elf, mcu, cpu in ((m7, "stm32f746", "m7"), (m7, "generic", "m7"),
                          (m4, "generic", "m4f")):
        r = ImageRunner(elf, mcu, cpu)
        t = time.perf_counter()
        res = r.run_on(r.symbol_address("bench_end", "END"), [])
        dt = time.perf_counter() - t
        on = "on" if r.machine.accesses is not None else "off"
        print(f"| {mcu}, {cpu} | {on} | {res.instructions:,} | {dt:.2f} | "
              f"{res.instructions / dt / 1e6:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
