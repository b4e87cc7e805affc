#!/usr/bin/env python3
"""The cost of `armsim run` on firmware built from C: plain, and with --check-memory.

    python scripts/bench_firmware.py [--repeat 5] [--json]

Firmware: the hand-written seed network (tests/data/own_c/seed_net.c, built with
`simulate --sources`'s layout, one inference on zero weights) and the memory-bug test
program (clean). Process CPU per run, median of --repeat runs, each in this process on a
fresh engine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from armsim.firmware.sources import UserSources, build_sources  # noqa: E402
from armsim.model.frontends.load import load_model  # noqa: E402
from armsim.model.inputs import DEFAULT_MODEL, data_file  # noqa: E402
from armsim.parts.cpus import get_cpu  # noqa: E402
from armsim.parts.mcus import get_mcu  # noqa: E402
from armsim.plan import make_plan  # noqa: E402
from armsim.session.image_run import ImageRunner  # noqa: E402

PLAN: dict[str, tuple[int, int]] = {}


def firmware() -> dict[str, Path]:
    """The ELFs measured, built (cached) for the M4F on the generic part."""
    cpu, mcu = get_cpu("m4f"), get_mcu("generic")
    g, _k = load_model(data_file(DEFAULT_MODEL))
    plan = make_plan(g, "auto", None, "sram", mcu.sram_base)
    own = ROOT / "tests" / "data" / "own_c"
    fw = ROOT / "tests" / "data" / "firmware"
    PLAN["seed_net.c (own C network)"] = (plan.base, plan.reserved_end)
    return {
        "seed_net.c (own C network)": build_sources(
            cpu, mcu, UserSources((own / "seed_net.c",)), plan),
        "memory_bugs.c (clean, malloc+printf)": build_sources(
            cpu, mcu, UserSources((fw / "memory_bugs.c",), cflags=("-DBUG=0",), entry=None)),
    }


def measure(elf: Path, check: bool, repeat: int, written: tuple[int, int] | None
            ) -> tuple[float, int]:
    """(median process CPU seconds of a run, instructions); ``written``: a span the loader
    would have written (the plan's inputs and weights: zeros here)."""
    times, n = [], 0
    for _ in range(repeat):
        r = ImageRunner(elf, "generic", None, None, check_memory=check)
        if r.sanitizer is not None and written is not None:
            r.sanitizer.mark_written(written[0], written[1] - written[0])
        t0 = time.process_time()
        res = r.run_on()
        times.append(time.process_time() - t0)
        n = res.instructions
        assert not res.findings, [f.message() for f in res.findings]
    return statistics.median(times), n


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory():
        for name, elf in firmware().items():
            plain, n = measure(elf, False, a.repeat, PLAN.get(name))
            checked, _ = measure(elf, True, a.repeat, PLAN.get(name))
            rows.append({"firmware": name, "instructions": n, "plain_ms": plain * 1e3,
                         "check_memory_ms": checked * 1e3, "ratio": checked / plain})
    if a.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{'firmware':40} {'instructions':>12} {'plain ms':>9} {'checked ms':>11} "
              f"{'ratio':>6}")
        for r in rows:
            print(f"{r['firmware']:40} {r['instructions']:>12,} {r['plain_ms']:>9.1f} "
                  f"{r['check_memory_ms']:>11.1f} {r['ratio']:>6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
