#!/usr/bin/env python3
"""TensorFlow Lite Micro against armsim's generated code on one CPU (issue 26): for int8
models of the zoo, the host process CPU per inference under each runtime, the instructions
of each (TFLM: Invoke; armsim: reset to halt), TFLM's first build (a fresh cache: the
libraries and the application) and its cached build, and the per-op profiler's cost (the
instructions it adds to Invoke, which the per-op rows leave out).

    python scripts/bench_tflm.py [--models dscnn,resnet,mobilenet] [--cpu m4f] [--n 20]
                                 [--warm-only] [--json]

Every run is checked: TFLM's outputs equal the tflite-micro host's, armsim's its host's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from armsim.model import flatbuffer, tflm_host, zoo  # noqa: E402
from armsim.model.frontends import tflite as T  # noqa: E402
from armsim.model.inputs import model_input  # noqa: E402
from armsim.model.quantize import quantize  # noqa: E402
from armsim.plan import make_plan  # noqa: E402
from armsim.session import tflm as S  # noqa: E402
from armsim.session.session import Session  # noqa: E402


def _cpu_seconds(run: Any, n: int) -> float:
    """Median process CPU seconds of ``run()`` over ``n`` calls (after one warm-up)."""
    run()
    times = []
    for _ in range(n):
        t0 = time.process_time()
        run()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def _tflite(name: str, out: Path) -> tuple[Path, np.ndarray]:
    """The model's int8 .tflite (quantized on 32 inputs) and one float input."""
    m = zoo.build(name)
    path = out / f"{name}_i8.tflite"
    quantize(m, zoo.sample_inputs(m, 32, seed=1), path)
    return path, zoo.sample_inputs(m, 1, seed=7)[0]


def measure(name: str, cpu: str, n: int, out: Path) -> dict[str, Any]:
    """One model: both runtimes' figures."""
    path, x = _tflite(name, out)
    fm = flatbuffer.load(path)
    xs = [model_input(x, fm.inputs[0])]
    t0 = time.perf_counter()
    s = S.TflmSession(fm, cpu, "large")
    session_s = time.perf_counter() - t0
    r = s.run(xs)
    host = tflm_host.TflmHost(fm).run(xs)
    assert all(np.array_equal(a, b) for a, b in zip(r.outputs, host)), "TFLM != host"
    p = S.profile(s, xs)
    g = T.load(path)
    gs = Session(g, make_plan(g), cpu, "large", kernels="cmsis-nn")
    xq = xs[0].reshape(g.tensors[g.inputs[0]].shape)
    a = gs.run(xq)
    return {
        "model": name, "ops": len(fm.main.operators),
        "tflm": {"instructions": r.instructions, "cpu_s_per_inference": _cpu_seconds(
            lambda: s.run(xs, cycles=False), n), "arena_bytes": s.arena.bytes,
                 "flash_bytes": p.footprint["flash"]["total"],
                 "ram_bytes": p.footprint["ram"]["total"], "session_s": round(session_s, 2)},
        "armsim": {"instructions": a.instructions, "cpu_s_per_inference": _cpu_seconds(
            lambda: gs.run(xq), n), "agree_with_tflm": bool(np.array_equal(
                a.outputs.astype(np.int64), np.concatenate([o.reshape(-1) for o in
                                                            r.outputs]).astype(np.int64)))},
        "profiler": {"instructions_added": p.profiler["instructions"],
                     "per_operator": p.profiler["per_event"],
                     "share_of_invoke": round(p.profiler["instructions"] / r.instructions, 6),
                     "rows_plus_glue_equal_invoke": sum(o.instructions for o in p.ops)
                     + p.glue["instructions"] == p.instructions},
    }


def build_times(cpu: str, out: Path) -> dict[str, float]:
    """TFLM's first build (a fresh cache: libraries, application, arena search) and the
    cached one, for a small model."""
    path, _x = _tflite("dscnn", out)
    fm = flatbuffer.load(path)
    old = os.environ.get("ARMSIM_CACHE_DIR")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["ARMSIM_CACHE_DIR"] = cache
        try:
            t0 = time.perf_counter()
            S.TflmSession(fm, cpu, "large")
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            S.TflmSession(fm, cpu, "large")
            cached = time.perf_counter() - t0
        finally:
            if old is None:
                os.environ.pop("ARMSIM_CACHE_DIR", None)
            else:
                os.environ["ARMSIM_CACHE_DIR"] = old
    return {"first_build_s": round(first, 1), "cached_s": round(cached, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="dscnn,resnet,mobilenet")
    ap.add_argument("--cpu", default="m4f")
    ap.add_argument("--n", type=int, default=20, help="timed inferences per runtime")
    ap.add_argument("--warm-only", action="store_true",
                    help="skip the first build in a fresh cache (about 5 minutes)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        out = Path(d)
        rows = [measure(m, args.cpu, args.n, out) for m in args.models.split(",")]
        builds = None if args.warm_only else build_times(args.cpu, out)
    if args.json:
        print(json.dumps({"cpu": args.cpu, "models": rows, "builds": builds}, indent=2))
        return 0
    print(f"{'model':10} {'ops':>4} {'TFLM instr':>12} {'armsim instr':>13} {'TFLM ms CPU':>12} "
          f"{'armsim ms CPU':>14} {'profiler +instr':>16} {'arena B':>8}")
    for r in rows:
        print(f"{r['model']:10} {r['ops']:>4} {r['tflm']['instructions']:>12,} "
              f"{r['armsim']['instructions']:>13,} "
              f"{1000 * r['tflm']['cpu_s_per_inference']:>12.2f} "
              f"{1000 * r['armsim']['cpu_s_per_inference']:>14.2f} "
              f"{r['profiler']['instructions_added']:>9,} ({r['profiler']['per_operator']:g}/op)"
              f" {r['tflm']['arena_bytes']:>8,}")
    if builds:
        print(f"TFLM first build (fresh cache, {args.cpu}, cmsis-nn): {builds['first_build_s']} s;"
              f" cached: {builds['cached_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
