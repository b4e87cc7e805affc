"""Regression gate: exact instructions per function, per model, CPU variant and kernel set,
against a committed baseline (kernels/baseline.json).

The seed runs on every CPU variant over the bundled digits, on its own preset (the seed
layout, weights in SRAM); each zoo model runs on m4f with both kernel sets over two fixed
inputs, and two of them on m0 and m7 too, on the default plan (weights in flash, as
deployed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

from armsim.firmware.kernels import kernels_dir
from armsim.model import mnist, zoo
from armsim.model.frontends.keras import to_graph
from armsim.model.frontends.load import load_model

#: The kernel sets the baseline pins: armsim's own (CMSIS-NN is pinned by its commit).
PINNED_SETS = ("optimized", "reference")
from armsim.firmware.toolchain import find_gcc, gcc_version
from armsim.parts.cpus import CPUS
from armsim.plan import make_plan
from armsim.session.session import Session

BASELINE = "baseline.json"
#: zoo model -> CPU variants it is pinned on (both kernel sets each)
ZOO_CPUS = {"lenet5": ("m4f", "m0", "m7"), "dscnn": ("m4f", "m0", "m7"), "resnet": ("m4f",),
            "mobilenet": ("m4f",), "autoencoder": ("m4f",), "conv1d": ("m4f",),
            "concat": ("m4f",), "mobilenetv3": ("m4f",),
            "gru_kws": ("m4f",)}


def baseline_path() -> Path:
    """Where the committed baseline lives: beside the kernels it pins."""
    return kernels_dir() / BASELINE


def _measure_model(g: Any, inputs: np.ndarray, cpus: tuple[str, ...], mcu: str,
                   progress: Callable[[str], None] | None, layout: str = "auto"
                   ) -> dict[str, Any]:
    variants: dict[str, Any] = {}
    plan = make_plan(g, layout)
    for cpu in cpus:
        for kernels in PINNED_SETS:
            if progress:
                progress(f"{g.name} {cpu}/{kernels}")
            s = Session(g, plan, cpu, mcu, kernels=kernels)
            functions: dict[str, int] = {}
            per_input = []
            for x in inputs:
                stats = s.run(x).stats
                per_input.append(int(stats.instructions))
                for name, n in stats.per_function(s.image).items():
                    functions[name] = functions.get(name, 0) + n
            variants[f"{cpu}/{kernels}"] = {"total": int(sum(per_input)),
                                            "per_input": per_input,
                                            "functions": dict(sorted(functions.items()))}
    return variants


def measure(seed_model: Path, digits: tuple[np.ndarray, np.ndarray, np.ndarray],
            progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Exact counts for the seed on every CPU and the zoo on its CPUs."""
    g, _ = load_model(seed_model)
    images, _labels, indices = digits
    models = {"seed": {"inputs": f"bundled MNIST test digits {indices.tolist()}",
                       "variants": _measure_model(g, mnist.scale(images), tuple(CPUS),
                                                  "generic", progress, "seed")}}
    for name, cpus in ZOO_CPUS.items():
        m = zoo.build(name)
        models[name] = {"inputs": "zoo.sample_inputs(model, 2, seed=0)",
                        "variants": _measure_model(to_graph(m, name), zoo.sample_inputs(m, 2),
                                                   cpus, "large", progress)}
    text = gcc_version(find_gcc())
    return {"seed_model": seed_model.name, "toolchain": text.splitlines()[0] if text else "",
            "models": models}


def compare(baseline: dict[str, Any], now: dict[str, Any]) -> list[tuple[str, str, int | None, int | None]]:
    """Every (model/variant, function) whose count changed: (variant, function, before, after)."""
    out = []
    bm, nm = baseline.get("models", {}), now.get("models", {})
    for model in sorted(set(bm) | set(nm)):
        bv, nv = bm.get(model, {}).get("variants", {}), nm.get(model, {}).get("variants", {})
        for variant in sorted(set(bv) | set(nv)):
            key = f"{model} {variant}"
            b = bv.get(variant, {}).get("functions", {})
            n = nv.get(variant, {}).get("functions", {})
            for fn in sorted(set(b) | set(n)):
                if b.get(fn) != n.get(fn):
                    out.append((key, fn, b.get(fn), n.get(fn)))
            if bv.get(variant, {}).get("per_input") != nv.get(variant, {}).get("per_input") \
                    and not any(r[0] == key for r in out):
                out.append((key, "(per input totals)", None, None))
    return out


def load_baseline(path: Path | None = None) -> dict[str, Any]:
    """The committed baseline."""
    return json.loads((path or baseline_path()).read_text())


def save_baseline(data: dict[str, Any], path: Path | None = None) -> Path:
    """Write the baseline (sorted keys, for readable diffs)."""
    p = path or baseline_path()
    p.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return p


def totals(data: dict[str, Any]) -> str:
    """One line: the total per model of the m4f optimized variant."""
    return ", ".join(f"{m} {v['variants']['m4f/optimized']['total']:,}"
                     for m, v in data["models"].items() if "m4f/optimized" in v["variants"])
