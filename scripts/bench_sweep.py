#!/usr/bin/env python3
"""Dask figures for issue 13: a fixed sweep on 1 and 2 local workers (cells per minute,
images per second), and one `validate` of N images on the process pool against Dask.

    python scripts/bench_sweep.py [--n 10000] [--cells-n 100] [--json]

Target: Dask no more than 10 % slower than the plain process pool on one machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SWEEP = """
[axes]
models = ["seed", "lenet5"]
cpus = ["m4f", "m7"]
opt = ["-O2", "-Os"]
mcus = ["large"]
[measure]
validate = {{ n = {n} }}
profile = true
"""


def sweep_scaling(n: int) -> list[dict]:
    from armsim.cli import main

    out = []
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as d:
            f = Path(d) / "s.toml"
            f.write_text(SWEEP.format(n=n))
            # build caches warm first, so both runs measure emulation, not compiling
            main(["sweep", str(f), "--out", str(Path(d) / "warm"), "--workers", "2", "--quiet"])
            t0 = time.perf_counter()
            rc = main(["sweep", str(f), "--out", str(Path(d) / "out"), "--workers",
                       str(workers), "--quiet"])
            dt = time.perf_counter() - t0
        cells = 8
        out.append({"workers": workers, "rc": rc, "seconds": round(dt, 1),
                    "cells_per_minute": round(cells * 60 / dt, 1),
                    "images_per_second": round(cells * n / dt, 1)})
    return out


def validate_overhead(n: int) -> dict:
    """Process CPU is not comparable across processes: wall time of the emulation only."""
    import numpy as np

    from armsim.check import validate as V
    from armsim.check.dask import client
    from armsim.model import mnist
    from armsim.model.frontends.load import load_model
    from armsim.model.inputs import DEFAULT_MODEL, data_file, mnist_scale
    from armsim.model.inputs import shared_mnist as _shared_mnist
    from armsim.plan import make_plan
    from armsim.session.session import Session

    g, _k = load_model(data_file(DEFAULT_MODEL))
    s = Session(g, make_plan(g, "auto", None, "sram", 0x20000000), "m4f", "generic")
    spec = V.RunSpec.of(s)
    split = mnist.load("test", os.environ.get("ARMSIM_MNIST_DIR") or _shared_mnist())
    xs = mnist_scale(split.images[:n], "seed")
    jobs = V.default_jobs()
    pool = V.emulate(spec, xs, jobs)  # a pool starts its processes on every call
    with client(None, jobs) as c:
        cold = V.emulate_dask(spec, xs, c)  # each worker loads the ELF on its first chunk
        dask = V.emulate_dask(spec, xs, c)  # a cluster that has run before
    assert np.array_equal(pool.outputs, dask.outputs)
    assert np.array_equal(pool.outputs, cold.outputs)
    return {"n": n, "jobs": jobs, "pool_seconds": round(pool.seconds, 2),
            "dask_first_seconds": round(cold.seconds, 2),
            "dask_seconds": round(dask.seconds, 2),
            "dask_vs_pool": round(dask.seconds / pool.seconds, 3),
            "same_outputs": True}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=10000, help="images for the validate comparison")
    p.add_argument("--cells-n", type=int, default=100, help="images per sweep cell")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    res = {"sweep": sweep_scaling(a.cells_n), "validate": validate_overhead(a.n)}
    if a.json:
        print(json.dumps(res, indent=2))
        return 0
    print("sweep of 8 cells (seed, lenet5 x m4f, m7 x -O2, -Os), "
          f"{a.cells_n} images each, warm build cache")
    for r in res["sweep"]:
        print(f"  {r['workers']} worker(s): {r['seconds']} s, {r['cells_per_minute']} cells/min, "
              f"{r['images_per_second']} images/s")
    v = res["validate"]
    print(f"validate of {v['n']} images on {v['jobs']} cores: pool {v['pool_seconds']} s, "
          f"Dask {v['dask_seconds']} s on a running cluster (ratio {v['dask_vs_pool']}; its "
          f"first call {v['dask_first_seconds']} s), identical outputs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
