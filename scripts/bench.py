#!/usr/bin/env python3
"""Benchmark exact instruction counting against the bare Unicorn engine, and validation
throughput, on the bundled model.

    python scripts/bench.py [--n 200] [--validate-n 2000] [--python] [--json]

Rows: ms per inference with no hooks (bare engine) and with exact counting, measured
interleaved in one process on the same ELF, and their ratio (target <= 1.11); images per
second of `armsim validate` with 1 process and with all cores (the 10,000-image target is
<= 8 s on 2 cores). armsim against QEMU on the same firmware: scripts/bench_engine.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from armsim.check.validate import default_jobs  # noqa: E402
from armsim.machine.counting import native_available  # noqa: E402
from armsim.model.frontends.load import load_model  # noqa: E402
from armsim.model.inputs import DEFAULT_MODEL, data_file  # noqa: E402
from armsim.plan import make_plan  # noqa: E402
from armsim.session.session import Session  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_zoo import per_inference as _per_inference  # noqa: E402


def per_inference(n: int, modes: list[str], kernels: str) -> dict[str, float]:
    """Median ms per full run (reset to halt) of the bundled seed model, interleaved."""
    g, _ = load_model(data_file(DEFAULT_MODEL))
    s = Session(g, make_plan(g), "m4f", "generic", kernels=kernels)
    x = np.zeros(g.tensors[g.inputs[0]].shape, np.float32)
    return {mode: 1000 * t for mode, t in _per_inference(s, x, n, tuple(modes)).items()}


def validate_rate(n: int, jobs: int, data: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "armsim", "validate", "--n", str(n), "--jobs",
                          str(jobs), "--json", "--quiet", "--data", data],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode not in (0, 1):
        raise SystemExit(f"validate failed:\n{out.stderr}")
    r = json.loads(out.stdout)
    return {"jobs": jobs, "n": n, "seconds": r["seconds"], "images_per_second": r["inputs_per_second"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="inferences per counting mode")
    ap.add_argument("--validate-n", type=int, default=2000, help="images per validate run (0: skip)")
    ap.add_argument("--python", action="store_true", help="also time the Python block hook")
    ap.add_argument("--kernels", default="optimized", choices=("optimized", "reference"),
                    help="kernel set for the per-inference rows (validate uses the default)")
    ap.add_argument("--data", default=os.environ.get("ARMSIM_MNIST_DIR",
                                                     str(ROOT.parent / "shared" / "data" / "mnist")))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    modes = ["none", "auto"] + (["python"] if args.python else [])
    ms = per_inference(args.n, modes, args.kernels)
    res = {"kernels": args.kernels, "native_counter": native_available(),
           "ms_bare": round(ms["none"], 3),
           "ms_exact": round(ms["auto"], 3), "ratio": round(ms["auto"] / ms["none"], 3)}
    if "python" in ms:
        res["ms_python_hook"] = round(ms["python"], 2)
    if args.validate_n:
        res["validate"] = [validate_rate(args.validate_n, j, args.data)
                           for j in sorted({1, default_jobs()})]
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(f"{args.kernels} kernels")
    print(f"per inference, bare engine (no hooks):  {res['ms_bare']:.3f} ms")
    print(f"per inference, exact counting ({'native' if res['native_counter'] else 'Python'}): "
          f"{res['ms_exact']:.3f} ms   ratio {res['ratio']:.3f} (target <= 1.11)")
    if "ms_python_hook" in res:
        print(f"per inference, Python block hook:       {res['ms_python_hook']:.2f} ms")
    for v in res.get("validate", []):
        print(f"armsim validate, {v['n']} images, {v['jobs']} process(es): {v['seconds']:.2f} s, "
              f"{v['images_per_second']:.0f} images/s -> 10,000 images in "
              f"{10000 / v['images_per_second']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
