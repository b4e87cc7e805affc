#!/usr/bin/env python3
"""int8 (CMSIS-NN) against float32 (armsim's optimized kernels, and CMSIS-NN's float32 API)
per model: exact instructions, estimated cycles and flash on each CPU; int8 emulation speed
with and without exact counting; float32 instructions/MAC per op kind, armsim's kernels
against Arm's.

    python scripts/bench_int8.py [--models seed,mlperf_dscnn] [--cpus m4f,m0] [--n 10] [--json]

Every int8 run is also checked bit-exact against the TFLite reference interpreter.
Targets (issue 11): counting costs <= 5 % over the bare engine; armsim's optimized float32
kernels no worse than CMSIS-NN's per op kind (where they are, the closing note says why).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_zoo import per_inference  # noqa: E402

from armsim.model import zoo  # noqa: E402
from armsim.model.frontends import tflite as T  # noqa: E402
from armsim.model.frontends.keras import to_graph  # noqa: E402
from armsim.model.frontends.load import load_model  # noqa: E402
from armsim.model.quantize import quantize  # noqa: E402
from armsim.model.tflite_host import TFLiteHost  # noqa: E402
from armsim.ops import registry  # noqa: E402
from armsim.plan import make_plan  # noqa: E402
from armsim.session import profile as P  # noqa: E402
from armsim.session.session import Session  # noqa: E402


def _model(name: str) -> tuple[Any, Any, np.ndarray]:
    """(Keras model, graph, calibration inputs)."""
    if name == "seed":
        from armsim.model import mnist

        g, m = load_model(ROOT / "armsim" / "data" / "default_model.keras")
        train = mnist.load("train", ROOT.parent / "shared" / "data" / "mnist")
        return m, g, mnist.scale(train.images[:64])
    m = zoo.build(name)
    return m, to_graph(m, name), zoo.sample_inputs(m, 64, seed=1)


def _profile(g: Any, plan: Any, cpu: str, kernels: str, x: np.ndarray) -> tuple[Any, Any]:
    s = Session(g, plan, cpu, "large", kernels=kernels)
    return s, P.profile(s, x)


def measure(name: str, cpus: list[str], n: int, work: Path) -> dict[str, Any]:
    """One model: float32 (two kernel sets) and int8 on each CPU."""
    keras, g, calib = _model(name)
    path = work / f"{name}.tflite"
    quantize(keras, calib, path)
    gq = T.load(path)
    host = TFLiteHost(path, gq)
    x = calib[0]
    qin = gq.tensors[gq.inputs[0]].quant
    xq = qin.quantize(x)
    host.invoke(xq)
    ref_q = host.outputs_q()
    row: dict[str, Any] = {"model": name, "macs": registry.macs(g), "cpus": {}}
    kinds: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for cpu in cpus:
        out: dict[str, Any] = {}
        plan = make_plan(g, "natural")
        for kernels in ("optimized", "cmsis-nn"):
            _s, p = _profile(g, plan, cpu, kernels, x)
            out[f"float32_{kernels}"] = {
                "instructions": p.total_instructions, "cycles": p.total_cycles_estimate,
                "flash": p.footprint["flash"]["total"] + p.footprint["ram"]["inputs_and_weights"]}
            if cpu == "m4f":
                for o in p.ops:
                    if o.macs:
                        acc = kinds[o.op][kernels]
                        acc[0] += o.instructions
                        acc[1] += o.macs
        sq, pq = _profile(gq, make_plan(gq), cpu, "optimized", xq)
        exact = bool(np.array_equal(np.array(pq.outputs, np.int8), ref_q))
        out["int8"] = {"instructions": pq.total_instructions, "cycles": pq.total_cycles_estimate,
                       "flash": pq.footprint["flash"]["total"]
                       + pq.footprint["ram"]["inputs_and_weights"],
                       "bit_exact": exact}
        if cpu == "m4f":
            t = per_inference(sq, xq, n)
            out["int8"].update(ms_bare=round(1000 * t["none"], 3),
                               ms_counting=round(1000 * t["auto"], 3),
                               counting_overhead=round(t["auto"] / t["none"] - 1, 4),
                               mips=round(pq.total_instructions / t["auto"] / 1e6, 1))
        row["cpus"][cpu] = out
    row["float32_instr_per_mac_by_kind_m4f"] = {
        k: {ks: round(v[0] / v[1], 3) for ks, v in d.items()} for k, d in kinds.items()}
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(["seed", *zoo.ZOO, *zoo.MLPERF]))
    ap.add_argument("--cpus", default="m4f,m0")
    ap.add_argument("--n", type=int, default=10, help="timed runs per counting mode (m4f)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cpus = args.cpus.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(name, cpus, args.n, Path(tmp)) for name in args.models.split(",")]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'model':<20}{'cpu':>5}{'MACs':>12}{'f32 instr':>13}{'f32 cyc':>13}"
          f"{'cmsis f32 instr':>16}{'int8 instr':>13}{'int8 cyc':>13}{'f32 flash':>11}"
          f"{'int8 flash':>11}{'exact':>7}")
    for r in rows:
        for cpu, v in r["cpus"].items():
            f, c, q = v["float32_optimized"], v["float32_cmsis-nn"], v["int8"]
            print(f"{r['model']:<20}{cpu:>5}{r['macs']:>12,}{f['instructions']:>13,}"
                  f"{f['cycles']:>13,.0f}{c['instructions']:>16,}{q['instructions']:>13,}"
                  f"{q['cycles']:>13,.0f}{f['flash']:>11,}{q['flash']:>11,}"
                  f"{'yes' if q['bit_exact'] else 'NO':>7}")
    print("\nint8 emulation on m4f (ms per inference bare / counting, overhead, MIPS):")
    for r in rows:
        q = r["cpus"].get("m4f", {}).get("int8", {})
        if "ms_bare" in q:
            print(f"  {r['model']:<20}{q['ms_bare']:>9.2f}{q['ms_counting']:>9.2f}"
                  f"{100 * q['counting_overhead']:>8.1f}%{q['mips']:>7.0f}")
    print("\nfloat32 instructions/MAC per op kind on m4f, armsim optimized vs CMSIS-NN:")
    agg: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        for k, d in r["float32_instr_per_mac_by_kind_m4f"].items():
            for ks, v in d.items():
                agg[k][ks].append(v)
    for k, d in agg.items():
        print(f"  {k:<20}" + "  ".join(f"{ks} {np.median(v):.2f}" for ks, v in d.items()))
    bad = [r["model"] for r in rows for v in r["cpus"].values() if not v["int8"]["bit_exact"]]
    print("int8 bit-exact with the TFLite interpreter on every model and CPU"
          if not bad else f"NOT bit-exact: {bad}")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
