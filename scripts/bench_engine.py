#!/usr/bin/env python3
"""armsim's engine against QEMU on the same firmware: process CPU per inference, and MIPS.

    python scripts/bench_engine.py [--cpus m4f m7] [--kernels optimized reference]
                                   [--loops 2001] [--repeat 3] [--check-runs 20] [--json]

The firmware is the seed CNN built by armsim for each CPU (generic part), with a ``main``
that runs the network ``--loops`` times and leaves through semihosting (SYS_EXIT). The
plan's memory image (weights and the first bundled digit) is written two ways: as a
uVision script (hex ``_WFLOAT`` lines, as ``armsim export`` writes them) for ``armsim run
--script``, and as one file QEMU loads with ``-device loader``. The same ELF runs as:

- **armsim run** (a child process, the command a user types): exact counting, the cycle
  estimate, and every chip-faithful check on (alignment faults, the FPU gate, the M7's
  address facts), as on every run;
- **engine bare**: the same Unicorn set-up in this process with no counter and no check
  (what the checks and counting cost is the difference);
- ``qemu-system-arm`` (``mps2-an386`` for the M4F, ``mps2-an500`` for the M7), when
  installed (Debian's ``qemu-system-arm``), with semihosting and nothing else.

Each figure is (CPU of an N-loop run - CPU of a 1-loop run) / (N - 1): start-up, loading and
translation cancel out. Children's CPU is ``RUSAGE_CHILDREN``; in-process runs are
``time.process_time`` around the run, a fresh engine each time. The minimum of ``--repeat``
runs of each is kept (noise on a shared machine only adds time). MIPS is the exact
instruction count per inference over that time.

The cost of ``--check-memory`` and ``--check-bounds``: ms per inference of a session's run
(``Session.run``, one inference each, the mean of ``--check-runs``) with each check, beside
the same run without it, on the same network and CPU.

``--validate N`` times ``armsim validate --n N`` of the seed (process CPU of the command and
its workers, and wall time; fastest of ``--repeat``) for this tree and, with ``--baseline
DIR``, for another checkout of armsim (say ``git worktree add DIR HEAD~1``) run by the same
Python and engine, in the same run.

``--train`` only runs the firmware a little (the workload ``scripts/build_unicorn.sh``
profiles its build with).
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


QEMU_MACHINES = {"m4f": "mps2-an386", "m7": "mps2-an500"}  # Cortex-M4F, Cortex-M7


def build_loop(kernels: str, loops: int, out: Path, cpu_name: str = "m4f"
               ) -> tuple[Path, Path, Path]:
    """(ELF, memory image, set-up script) of the seed network looped ``loops`` times for
    ``cpu_name``, built under ``out``."""
    import numpy as np

    from armsim.model.inputs import load_digits, mnist_scale
    from armsim.script.writer import hex_format

    cpu, mcu = get_cpu(cpu_name), get_mcu("generic")
    g, _keras = load_model(data_file(DEFAULT_MODEL))
    plan = make_plan(g, "auto", None, "sram", mcu.sram_base)
    generated = fw.generated_sources(plan, mcu, kernels)
    generated["loop.c"] = f"#define ARMSIM_LOOPS {loops}\n" + LOOP_C
    d = out / f"{cpu_name}-{kernels}-{loops}"
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
    script = d / "setup.ini"
    script.write_text(hex_format(plan, packed, ["bench_engine: the seed's weights and input"]))
    return d / "network.elf", img, script


def armsim_cpu(elf: Path, img: Path, counting: str, cpu: str = "m4f") -> tuple[float, int]:
    """(process CPU seconds of one run, instructions executed) on a fresh engine in this
    process; ``counting`` "none" is the bare engine (no counter, no alignment watch)."""
    m = Machine(ElfImage.load(elf), get_cpu(cpu), get_mcu("generic"), counting=counting,
                semihost=Semihost(), check_alignment=counting != "none")
    m.begin(max_instructions=10**12, timeout_s=0)
    m.host_write(0x20000000, img.read_bytes())
    t0 = time.process_time()
    m.go()
    t = time.process_time() - t0
    if m.semihost is None or m.semihost.exit is None:
        raise SystemExit(f"bench: {elf} did not exit through semihosting (stopped at "
                         f"0x{m.pc:08X})")
    return t, (m.executed if counting != "none" else 0)


def child_cpu(cmd: list[str], **kw: object) -> tuple[float, str]:
    """(process CPU seconds, user + system, of a child process; its standard output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         text=True, timeout=3600, **kw).stdout  # type: ignore[call-overload]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def armsim_run(elf: Path, script: Path, cpu: str) -> tuple[float, int]:
    """(process CPU seconds, instructions) of ``armsim run ELF --script setup.ini``."""
    t, out = child_cpu([sys.executable, "-m", "armsim", "run", str(elf), "--script",
                        str(script), "--cpu", cpu, "--mcu", "generic", "--json",
                        "--max-instructions", str(10**12), "--timeout", "3600"])
    return t, int(json.loads(out)["instructions"])


def qemu_cpu(qemu: str, elf: Path, img: Path, cpu: str = "m4f") -> float:
    """Process CPU seconds (user + system) of one QEMU run of the firmware."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([qemu, "-M", QEMU_MACHINES[cpu], "-nographic", "-monitor", "none",
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
            elf, img, _script = build_loop(k, 20, Path(tmp))
            for counting in ("auto", "none"):
                t, n = armsim_cpu(elf, img, counting)
                print(f"train: {k} {counting}: {t:.2f} s" + (f", {n:,} instructions" if n else ""))
    return 0


def check_costs(cpu: str, kernels: str, runs: int) -> dict[str, float]:
    """ms of process CPU per inference of a session's run, plain and with each check."""
    from armsim.model.inputs import load_digits, mnist_scale
    from armsim.session.session import Session

    g, _keras = load_model(data_file(DEFAULT_MODEL))
    plan = make_plan(g, "auto", None, "sram", get_mcu("generic").sram_base)
    s = Session(g, plan, cpu, "generic", kernels=kernels)
    x = mnist_scale(load_digits()[0][:1], "seed")[0].reshape(g.tensors[g.inputs[0]].shape)
    out: dict[str, float] = {}
    for label, kw in (("plain", {}), ("check_memory", {"check_memory": True}),
                      ("check_bounds", {"check_bounds": True})):
        s.run(x, **kw)  # translated once, outside the timing
        best = float("inf")
        for _ in range(3):
            t0 = time.process_time()
            for _ in range(runs):
                r = s.run(x, **kw)
            best = min(best, (time.process_time() - t0) / runs)
        if kw and (r.overruns or r.memory_findings):
            raise SystemExit(f"bench: {label} found something on the seed: the figures would "
                             "be of a failing run")
        out[f"{label}_ms"] = best * 1e3
    return out


def validate_cost(tree: Path, n: int, repeat: int) -> dict[str, float]:
    """Fastest of ``repeat`` runs of ``armsim validate --n n`` from the checkout ``tree``:
    process CPU (with its workers) and wall seconds."""
    # both checkouts read the MNIST copy beside this one, unless told otherwise
    env = {"ARMSIM_MNIST_DIR": str(ROOT.parent / "shared" / "data" / "mnist"), **os.environ,
           "PYTHONPATH": str(tree)}
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        cpu, _out = child_cpu([sys.executable, "-m", "armsim", "validate", "--n", str(n),
                               "--quiet"], cwd=str(tree), env=env)
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, cpu)
    return {"cpu_s": best_cpu, "wall_s": best_wall}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loops", type=int, default=2001, help="inferences in the long run")
    ap.add_argument("--cpus", nargs="+", default=["m4f", "m7"], choices=sorted(QEMU_MACHINES))
    ap.add_argument("--kernels", nargs="+", default=["optimized", "reference"],
                    choices=["optimized", "reference"])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each firmware; the fastest is kept")
    ap.add_argument("--check-runs", type=int, default=20,
                    help="session runs per figure of the --check-memory/--check-bounds costs")
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    ap.add_argument("--validate", type=int, metavar="N",
                    help="only time `armsim validate --n N` of the seed (this tree, and "
                         "--baseline's)")
    ap.add_argument("--baseline", type=Path, metavar="DIR",
                    help="with --validate: another armsim checkout to time the same way")
    ap.add_argument("--train", action="store_true",
                    help="only run the firmware a little, counting and bare (the workload "
                         "scripts/build_unicorn.sh profiles its build with)")
    args = ap.parse_args()
    if args.loops < 2:
        ap.error("--loops must be at least 2")
    if args.train:
        return train(args.kernels)
    if args.validate:
        trees = {"this tree": ROOT, **({f"baseline {args.baseline}": args.baseline.resolve()}
                                      if args.baseline else {})}
        res = {k: validate_cost(t, args.validate, args.repeat) for k, t in trees.items()}
        if args.json:
            print(json.dumps({"validate_n": args.validate, "runs": res}, indent=2))
            return 0
        for k, r in res.items():
            print(f"armsim validate --n {args.validate} ({k}): {r['cpu_s']:.2f} s CPU with "
                  f"its workers, {r['wall_s']:.2f} s wall (fastest of {args.repeat})")
        return 0
    from armsim.machine.alignment import use_watch

    qemu = shutil.which("qemu-system-arm")
    rows = []
    with tempfile.TemporaryDirectory(prefix="armsim-bench-") as tmp:
        for cpu in args.cpus:
            for kernels in args.kernels:
                elf1, img, script = build_loop(kernels, 1, Path(tmp), cpu)
                elfn, _img, _script = build_loop(kernels, args.loops, Path(tmp), cpu)
                _t, i1 = armsim_run(elf1, script, cpu)
                _t, i_n = armsim_run(elfn, script, cpu)
                per = (i_n - i1) / (args.loops - 1)
                row: dict[str, object] = {"cpu": cpu, "kernels": kernels,
                                          "instructions_per_inference": per}
                pick = {1: elf1, args.loops: elfn}

                def run(n: int, pick=pick, script=script, cpu=cpu):
                    return lambda: armsim_run(pick[n], script, cpu)[0]

                def bare(n: int, pick=pick, img=img, cpu=cpu):
                    return lambda: armsim_cpu(pick[n], img, "none", cpu)[0]

                ms = {"armsim_run": per_inference(run, args.loops, args.repeat) * 1e3,
                      "engine_bare": per_inference(bare, args.loops, args.repeat) * 1e3}
                if qemu:
                    def theirs(n: int, pick=pick, img=img, cpu=cpu, qemu=qemu):
                        return lambda: qemu_cpu(qemu, pick[n], img, cpu)
                    ms["qemu"] = per_inference(theirs, args.loops, args.repeat) * 1e3
                for k, v in ms.items():
                    row[f"{k}_ms"] = v
                    row[f"{k}_mips"] = per / v / 1e3
                if "qemu" in ms:
                    row["ratio_run_to_qemu"] = ms["armsim_run"] / ms["qemu"]
                    row["ratio_bare_to_qemu"] = ms["engine_bare"] / ms["qemu"]
                costs = check_costs(cpu, kernels, args.check_runs)
                row.update({f"session_{k}": v for k, v in costs.items()})
                rows.append(row)
    result = {"engine": str(engine_build()),
              "alignment": "instruction watch (slow)" if use_watch() else "in the engine",
              "loops": args.loops, "repeat": args.repeat,
              "qemu": subprocess.run([qemu, "--version"], capture_output=True, text=True
                                     ).stdout.splitlines()[0] if qemu else None,
              "cpus": os.cpu_count(), "rows": rows}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    nan = float("nan")
    print(f"engine: {result['engine']}; alignment faults: {result['alignment']}")
    print(f"qemu:   {result['qemu'] or 'not installed (apt-get install qemu-system-arm)'}")
    print(f"seed CNN, ms of process CPU per inference (({args.loops} loops - 1 loop) / "
          f"{args.loops - 1}, fastest of {args.repeat})")
    print(f"{'cpu':4} {'kernels':10} {'instr/inf':>10} {'armsim run':>10} {'bare':>7} "
          f"{'qemu':>7} {'run/qemu':>8} {'bare/qemu':>9} {'MIPS run':>8} {'MIPS qemu':>9}")
    for r in rows:
        print(f"{r['cpu']:4} {r['kernels']:10} {r['instructions_per_inference']:>10,.0f} "
              f"{r['armsim_run_ms']:>10.3f} {r['engine_bare_ms']:>7.3f} "
              f"{r.get('qemu_ms', nan):>7.3f} {r.get('ratio_run_to_qemu', nan):>8.2f} "
              f"{r.get('ratio_bare_to_qemu', nan):>9.2f} {r['armsim_run_mips']:>8.0f} "
              f"{r.get('qemu_mips', nan):>9.0f}")
    print(f"\nchecks on a session's run (one inference each, mean of {args.check_runs}), ms "
          "per inference:")
    print(f"{'cpu':4} {'kernels':10} {'plain':>7} {'--check-memory':>15} {'--check-bounds':>15}")
    for r in rows:
        p = r["session_plain_ms"]
        print(f"{r['cpu']:4} {r['kernels']:10} {p:>7.3f} "
              f"{r['session_check_memory_ms']:>7.3f} ({r['session_check_memory_ms'] / p:>4.1f}x) "
              f"{r['session_check_bounds_ms']:>7.3f} ({r['session_check_bounds_ms'] / p:>4.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
