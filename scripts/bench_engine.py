#!/usr/bin/env python3
"""armsim's engine against QEMU on the same firmware: process CPU per inference, and MIPS.

    python scripts/bench_engine.py [--loops 2001] [--kernels optimized reference] [--repeat 3] [--json]

The firmware is the seed CNN built by armsim for the Cortex-M4F (generic part), with a
``main`` that runs the network ``--loops`` times and leaves through semihosting
(SYS_EXIT). The plan's memory image (weights and the first bundled digit) is one file:
armsim writes it into SRAM as a script would, QEMU loads it with ``-device loader``. The
same ELF and image run on:

- armsim's engine, **counting** (exact per-block counts: what every armsim command runs) and
  **bare** (the same Unicorn set-up with no counter);
- ``qemu-system-arm -M mps2-an386`` (Cortex-M4F, SRAM at 0x20000000), when installed
  (Debian's ``qemu-system-arm``), with semihosting and nothing else.

Each figure is (CPU of an N-loop run - CPU of a 1-loop run) / (N - 1): start-up, loading and
translation cancel out. armsim's runs are measured in this process (``time.process_time``
around the run, a fresh engine each time); QEMU's are child processes (``RUSAGE_CHILDREN``).
The minimum of ``--repeat`` runs of each is kept (noise on a shared machine only
adds time). MIPS is the exact instruction count per inference
(armsim's) over that time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from armsim.firmware import build as fw  # noqa: E402
from armsim.firmware import link as fl  # noqa: E402
from armsim.firmware.toolchain import find_gcc  # noqa: E402
from armsim.machine.elf import ElfImage  # noqa: E402
from armsim.machine.emulator import Machine  # noqa: E402
from armsim.machine.engine import engine_build  # noqa: E402
from armsim.machine.semihost import Semihost  # noqa: E402
from armsim.model.frontends.load import load_model  # noqa: E402
from armsim.model.inputs import DEFAULT_MODEL, data_file  # noqa: E402
from armsim.parts.cpus import get_cpu  # noqa: E402
from armsim.parts.mcus import get_mcu  # noqa: E402
from armsim.plan import make_plan  # noqa: E402

QEMU_MACHINE = "mps2-an386"  # Cortex-M4F: 4 MiB SSRAM at 0 (code), SSRAM at 0x20000000

LOOP_C = """\
/* Benchmark harness: the network ARMSIM_LOOPS times, then SYS_EXIT (semihosting). */
extern void armsim_network_run(void);

int main(void)
{
    for (int i = 0; i < ARMSIM_LOOPS; i++) {
        armsim_network_run();
    }
    register unsigned r0 __asm__("r0") = 0x18u;     /* SYS_EXIT */
    register unsigned r1 __asm__("r1") = 0x20026u;  /* ADP_Stopped_ApplicationExit */
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
    }
}
"""


def build_loop(kernels: str, loops: int, out: Path) -> tuple[Path, Path]:
    """(ELF, memory image) of the seed network looped ``loops`` times, built under ``out``."""
    import numpy as np

    from armsim.model.inputs import load_digits, mnist_scale

    cpu, mcu = get_cpu("m4f"), get_mcu("generic")
    g, _keras = load_model(data_file(DEFAULT_MODEL))
    plan = make_plan(g, "auto", None, "sram", mcu.sram_base)
    generated = fw.generated_sources(plan, mcu, kernels)
    generated["loop.c"] = f"#define ARMSIM_LOOPS {loops}\n" + LOOP_C
    d = out / f"{kernels}-{loops}"
    fl.link(find_gcc(), cpu, kernels, generated, ["network.c", "loop.c"], d, True,
             "benchmark firmware")
    assert plan.base == 0x20000000, "both engines load the image at 0x20000000"
    image = bytearray(plan.reserved_end - plan.base)
    x = mnist_scale(load_digits()[0][:1], "seed")[0]
    packed = dict(plan.pack(plan.constant_tensors()))
    packed[plan.input.name] = plan.input.pack(x.reshape(g.tensors[g.inputs[0]].shape))
    for name, arr in packed.items():
        b = plan[name]
        raw = np.asarray(arr, np.dtype(b.dtype).newbyteorder("<")).tobytes()
        image[b.address - plan.base:b.address - plan.base + len(raw)] = raw
    img = d / "memory.bin"
    img.write_bytes(bytes(image))
    return d / "network.elf", img


def armsim_cpu(elf: Path, img: Path, counting: str) -> tuple[float, int]:
    """(process CPU seconds of one run, instructions executed) on a fresh engine."""
    m = Machine(ElfImage.load(elf), get_cpu("m4f"), get_mcu("generic"), counting=counting,
                semihost=Semihost(), check_alignment=False)
    m.begin(max_instructions=10**12, timeout_s=0)
    m.host_write(0x20000000, img.read_bytes())
    t0 = time.process_time()
    m.go()
    t = time.process_time() - t0
    if m.semihost is None or m.semihost.exit is None:
        raise SystemExit(f"bench: {elf} did not exit through semihosting (stopped at "
                         f"0x{m.pc:08X})")
    return t, (m.executed if counting != "none" else 0)


def qemu_cpu(qemu: str, elf: Path, img: Path) -> float:
    """Process CPU seconds (user + system) of one QEMU run of the firmware."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([qemu, "-M", QEMU_MACHINE, "-nographic", "-monitor", "none",
                    "-serial", "none", "-semihosting-config", "enable=on,target=native",
                    "-kernel", str(elf), "-device", f"loader,file={img},addr=0x20000000"],
                   check=True, stdin=subprocess.DEVNULL, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def per_inference(run, loops: int, repeat: int) -> float:
    """(min CPU of ``repeat`` N-loop runs - min CPU of ``repeat`` 1-loop runs) / (N - 1), in
    seconds. The minimum: on a shared machine, noise only ever adds time."""
    one, many = run(1), run(loops)
    return (min(many() for _ in range(repeat)) - min(one() for _ in range(repeat))) \
        / (loops - 1)


def train(kernels: list[str]) -> int:
    """Run each kernel set's firmware 20 times, counting and bare: a profile of the work
    armsim's engine does (translation, the block hook, loads, stores, softfloat)."""
    with tempfile.TemporaryDirectory(prefix="armsim-train-") as tmp:
        for k in kernels:
            elf, img = build_loop(k, 20, Path(tmp))
            for counting in ("auto", "none"):
                t, n = armsim_cpu(elf, img, counting)
                print(f"train: {k} {counting}: {t:.2f} s" + (f", {n:,} instructions" if n else ""))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loops", type=int, default=2001, help="inferences in the long run")
    ap.add_argument("--kernels", nargs="+", default=["optimized", "reference"],
                    choices=["optimized", "reference", "cmsis-nn"])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each firmware; the fastest is kept")
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    ap.add_argument("--train", action="store_true",
                    help="only run the firmware a little, counting and bare (the workload "
                         "scripts/build_unicorn.sh profiles its build with)")
    args = ap.parse_args()
    if args.loops < 2:
        ap.error("--loops must be at least 2")
    if args.train:
        return train(args.kernels)
    qemu = shutil.which("qemu-system-arm")
    rows = []
    with tempfile.TemporaryDirectory(prefix="armsim-bench-") as tmp:
        for kernels in args.kernels:
            elf1, img = build_loop(kernels, 1, Path(tmp))
            elfn, _ = build_loop(kernels, args.loops, Path(tmp))
            _t, i1 = armsim_cpu(elf1, img, "auto")
            _t, i_n = armsim_cpu(elfn, img, "auto")
            per = (i_n - i1) / (args.loops - 1)
            row = {"kernels": kernels, "instructions_per_inference": per}

            def ours(counting: str):
                def make(n: int):
                    elf = elf1 if n == 1 else elfn
                    return lambda: armsim_cpu(elf, img, counting)[0]
                return make

            for counting, label in (("auto", "armsim_counting"), ("none", "armsim_bare")):
                s = per_inference(ours(counting), args.loops, args.repeat)
                row[f"{label}_ms"] = s * 1e3
                row[f"{label}_mips"] = per / s / 1e6
            if qemu:
                def theirs(n: int):
                    elf = elf1 if n == 1 else elfn
                    return lambda: qemu_cpu(qemu, elf, img)
                s = per_inference(theirs, args.loops, args.repeat)
                row["qemu_ms"] = s * 1e3
                row["qemu_mips"] = per / s / 1e6
                row["ratio_counting_to_qemu"] = row["armsim_counting_ms"] / row["qemu_ms"]
                row["ratio_bare_to_qemu"] = row["armsim_bare_ms"] / row["qemu_ms"]
            rows.append(row)
    result = {"engine": str(engine_build()), "loops": args.loops, "repeat": args.repeat,
              "qemu": subprocess.run([qemu, "--version"], capture_output=True, text=True
                                     ).stdout.splitlines()[0] if qemu else None,
              "cpus": os.cpu_count(), "rows": rows}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"engine: {result['engine']}")
    print(f"qemu:   {result['qemu'] or 'not installed (apt-get install qemu-system-arm)'}")
    print(f"seed CNN on Cortex-M4F, ms of process CPU per inference "
          f"(({args.loops} loops - 1 loop) / {args.loops - 1}, fastest of {args.repeat})")
    head = f"{'kernels':10} {'instr/inf':>10} {'counting':>9} {'bare':>8} {'qemu':>8} " \
           f"{'MIPS cnt':>9} {'MIPS qemu':>9} {'cnt/qemu':>9} {'bare/qemu':>9}"
    print(head)
    for r in rows:
        q = r.get("qemu_ms")
        print(f"{r['kernels']:10} {r['instructions_per_inference']:>10,.0f} "
              f"{r['armsim_counting_ms']:>9.3f} {r['armsim_bare_ms']:>8.3f} "
              f"{q if q is not None else float('nan'):>8.3f} {r['armsim_counting_mips']:>9.0f} "
              f"{r.get('qemu_mips', float('nan')):>9.0f} "
              f"{r.get('ratio_counting_to_qemu', float('nan')):>9.2f} "
              f"{r.get('ratio_bare_to_qemu', float('nan')):>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
