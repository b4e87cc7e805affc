"""Regression gate: exact instructions per function, per CPU variant and kernel set, for the
bundled model on the bundled digits, against a committed baseline (kernels/baseline.json)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from . import layout as L
from . import mnist
from . import model as M
from .build import KERNEL_SETS, find_gcc, kernels_dir
from .cpus import CPUS, get_cpu
from .mcu import DEFAULT_MCU, get_mcu

BASELINE = "baseline.json"


def baseline_path() -> Path:
    """Where the committed baseline lives: beside the kernels it pins."""
    return kernels_dir() / BASELINE


def measure(model_path: Path, digits: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[str, Any]:
    """Exact counts for every CPU variant and kernel set on the bundled digits."""
    from .simulate import Simulator

    weights = M.weights_of(M.load(model_path))
    lay = L.seed_layout(weights.filters)
    images, labels, indices = digits
    variants: dict[str, Any] = {}
    for cpu in CPUS:
        for kernels in KERNEL_SETS:
            sim = Simulator(lay, get_cpu(cpu), get_mcu(DEFAULT_MCU), kernels=kernels)
            sim.write_tensors(lay.pack(weights.tensors()))
            functions: dict[str, int] = {}
            per_digit = []
            for im in images:
                stats = sim.infer(lay["input"].pack(mnist.scale(im))).stats
                per_digit.append(stats.instructions)
                for name, n in stats.per_function(sim.image).items():
                    functions[name] = functions.get(name, 0) + n
            variants[f"{cpu}/{kernels}"] = {"total": int(sum(per_digit)),
                                            "per_digit": [int(n) for n in per_digit],
                                            "functions": dict(sorted(functions.items()))}
    gcc = subprocess.run([find_gcc(), "--version"], capture_output=True, text=True).stdout
    return {"model": model_path.name, "inputs": f"bundled MNIST test digits {indices.tolist()}",
            "toolchain": gcc.splitlines()[0] if gcc else "", "variants": variants}


def compare(baseline: dict[str, Any], now: dict[str, Any]) -> list[tuple[str, str, int | None, int | None]]:
    """Every (variant, function) whose count changed: (variant, function, before, after)."""
    out = []
    for variant in sorted(set(baseline["variants"]) | set(now["variants"])):
        b = baseline["variants"].get(variant, {}).get("functions", {})
        n = now["variants"].get(variant, {}).get("functions", {})
        for fn in sorted(set(b) | set(n)):
            if b.get(fn) != n.get(fn):
                out.append((variant, fn, b.get(fn), n.get(fn)))
        bt = baseline["variants"].get(variant, {}).get("per_digit")
        nt = now["variants"].get(variant, {}).get("per_digit")
        if bt != nt and not any(r[0] == variant for r in out):
            out.append((variant, "(per digit totals)", None, None))
    return out


def load_baseline(path: Path | None = None) -> dict[str, Any]:
    """The committed baseline."""
    p = path or baseline_path()
    return json.loads(p.read_text())


def save_baseline(data: dict[str, Any], path: Path | None = None) -> Path:
    """Write the baseline (sorted keys, one number per line for readable diffs)."""
    p = path or baseline_path()
    p.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return p
