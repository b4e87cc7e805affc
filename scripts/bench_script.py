#!/usr/bin/env python3
"""Benchmark parsing and applying uVision scripts: the seed-size script (12,522 lines)
through the full path (parse, layout checks, coalesced writes into the emulator), and a
1,000,000-line script (parse, coalesce, write into a 4 MiB SRAM map).

    python scripts/bench_script.py [--repeat 5] [--lines 1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from armsim.parts import cpus
from armsim.parts import mcus as mcu  # noqa: E402
from armsim.plan.seed import seed_graph, seed_plan  # noqa: E402
from armsim.script.parser import parse_program  # noqa: E402
from armsim.script.runner import Runner  # noqa: E402
from armsim.script.target import run_script  # noqa: E402
from armsim.script.writer import float32_line, seed_format  # noqa: E402
from armsim.session.session import Session  # noqa: E402


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    g = seed_graph(8)
    lay = seed_plan(g)
    packed = {b.name: rng.normal(0, 0.3, b.count).astype(np.float32) for b in lay}
    tmp = Path(tempfile.mkdtemp())
    seed = tmp / "seed.ini"
    seed.write_text(seed_format(lay, packed))
    sim = Session(g, lay, cpus.get_cpu("m4f"), mcu.get_mcu("generic"), load_weights=False)

    def seed_path() -> None:
        program = parse_program(seed)
        sim.machine.begin()
        run_script(program, sim.machine, lay)

    t_seed = best_of(args.repeat, seed_path)

    big = tmp / "big.ini"
    with big.open("w") as fh:
        vals = rng.normal(0, 1, args.lines).astype(np.float32)
        for i in range(0, args.lines, 100_000):
            fh.write("".join(float32_line(0x20000000 + 4 * j, vals[j])
                             for j in range(i, min(i + 100_000, args.lines))))
    from unicorn import UC_ARCH_ARM, UC_MODE_THUMB, Uc

    def big_path() -> None:
        program = parse_program(big)
        from armsim.script.runner import MemoryTarget

        log = Runner(program, MemoryTarget()).run()
        uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
        uc.mem_map(0x20000000, (4 * args.lines + 0xFFF) & ~0xFFF)
        for addr, data in log.writes.blocks():
            uc.mem_write(addr, data)

    t_big = best_of(max(1, args.repeat // 2), big_path)
    res = {"seed_lines": 12522, "seed_ms": round(1000 * t_seed, 1), "big_lines": args.lines,
           "big_s": round(t_big, 2), "big_us_per_line": round(1e6 * t_big / args.lines, 2)}
    if args.json:
        print(json.dumps(res))
    else:
        print(f"seed-size script, 12,522 lines, parse + checks + apply: {res['seed_ms']} ms "
              f"(best of {args.repeat})")
        print(f"{args.lines:,}-line script, parse + coalesce + apply: {res['big_s']} s "
              f"({res['big_us_per_line']} us/line)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
