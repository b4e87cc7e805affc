"""A sweep file (TOML, read with ``tomllib``): the axes of the grid and what to measure.

    [axes]
    models = ["a.keras", "b.tflite", "mlperf_dscnn"]   # paths (relative to the file) or zoo names
    dtypes = ["float32", "int8"]
    cpus = ["m4f", "m0"]
    kernels = ["optimized"]
    runtimes = ["armsim", "tflm"]   # armsim's generated code, TensorFlow Lite Micro
    opt = ["-O2", "-Os"]
    mcus = ["large"]
    [measure]
    validate = { n = 50 }        # inputs: MNIST test images, or inputs = "x.npz"
    profile = true
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armsim.errors import ArmsimError
from armsim.firmware.kernels import KERNEL_SETS
from armsim.model import zoo
from armsim.model.inputs import DEFAULT_MODEL, data_file
from armsim.parts.cpus import CPUS, OPT_LEVELS, canonical_cpu
from armsim.parts.mcus import MCUS, canonical_mcu, get_mcu, resolve_cpu

DTYPES = ("float32", "int8")
RUNTIMES = ("armsim", "tflm")
AXES = ("models", "dtypes", "cpus", "kernels", "opt", "mcus", "runtimes")
DEFAULTS: dict[str, list[str]] = {"dtypes": ["float32"], "cpus": ["m4f"],
                                  "kernels": ["optimized"], "opt": ["-O2"],
                                  "mcus": ["large"], "runtimes": ["armsim"]}
#: TFLM's kernel sets; a TFLM cell of any other (armsim's "optimized") runs TFLM's default.
TFLM_KERNELS, TFLM_DEFAULT = ("cmsis-nn", "reference"), "cmsis-nn"


@dataclass(frozen=True)
class CellKey:
    """One point of the grid: the key columns of the results table."""

    model: str
    dtype: str
    cpu: str
    kernels: str
    opt: str
    mcu: str
    runtime: str = "armsim"


@dataclass
class Sweep:
    """A parsed sweep file.

    Attributes:
        path: the file
        models: model name as written -> resolved path (or a zoo name, built later)
        axes: axis -> values (models by name as written)
        n: inputs per validation (0: no validation)
        inputs: an .npy/.npz of inputs, else None (MNIST test images)
        profile: profile every cell
        tolerance, rtol: the comparison rule (as `validate`)
        chunk: inputs per task when a cell's validation is split across workers
    """

    path: Path
    models: dict[str, Path | str]
    axes: dict[str, list[str]]
    n: int = 50
    inputs: Path | None = None
    profile: bool = True
    tolerance: float = 1e-5
    rtol: float = 1e-5
    #: validations of more inputs than this are split into chunk tasks across workers
    chunk: int = 1000

    def cells(self) -> list[CellKey]:
        """Every point of the grid, in file order (a TFLM cell runs TFLM's own kernel sets:
        armsim's "optimized" is TFLM's default there, and the cells it would repeat are
        dropped)."""
        out: dict[CellKey, None] = {}
        for v in itertools.product(*(self.axes[a] for a in AXES)):
            key = CellKey(*v)
            if not runs_on(key.cpu, key.mcu):
                continue  # a cpus entry whose core is not the part's: not a cell
            if key.runtime == "tflm" and key.kernels not in TFLM_KERNELS:
                key = CellKey(*v[:3], TFLM_DEFAULT, *v[4:])
            out.setdefault(key, None)
        return list(out)


def runs_on(cpu: str, mcu: str) -> bool:
    """True when CPU variant ``cpu`` may run on MCU preset ``mcu`` (its own core; any on the
    generic and large presets)."""
    try:
        resolve_cpu(get_mcu(mcu), cpu)
    except ArmsimError:
        return False
    return True


def _err(path: Path, message: str) -> ArmsimError:
    return ArmsimError(f"{path}: {message}")


def _strings(path: Path, where: str, value: Any, allowed: tuple[str, ...] | None) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _err(path, f"{where} must be a non-empty list of strings, got {value!r}")
    if allowed is not None:
        bad = [v for v in value if v not in allowed]
        if bad:
            raise _err(path, f"{where}: unknown {bad[0]!r}; one of {', '.join(allowed)}")
    if len(set(value)) != len(value):
        raise _err(path, f"{where} lists a value twice")
    return list(value)


def load(path: str | Path) -> Sweep:
    """Read and check a sweep file; every mistake is named with its key."""
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text())
    except OSError as e:
        raise _err(p, f"cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise _err(p, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise _err(p, f"not valid TOML: {e}") from None
    unknown = set(doc) - {"axes", "measure"}
    if unknown:
        raise _err(p, f"unknown table [{sorted(unknown)[0]}]; expected [axes] and [measure]")
    axes_doc = doc.get("axes")
    if not isinstance(axes_doc, dict) or "models" not in axes_doc:
        raise _err(p, "needs an [axes] table with models = [...]")
    bad = set(axes_doc) - set(AXES)
    if bad:
        raise _err(p, f"[axes] has unknown key {sorted(bad)[0]!r}; known: {', '.join(AXES)}")
    for axis, canon in (("cpus", lambda v: canonical_cpu(v)[0]), ("mcus", canonical_mcu)):
        values = axes_doc.get(axis)
        if isinstance(values, list):  # names as people write them (any case, cortex-m4f)
            try:
                axes_doc[axis] = [canon(v) if isinstance(v, str) else v for v in values]
            except ArmsimError as e:
                raise _err(p, f"[axes] {axis}: {e}") from None
    allowed = {"models": None, "dtypes": DTYPES, "cpus": tuple(CPUS), "kernels": KERNEL_SETS,
               "opt": OPT_LEVELS, "mcus": tuple(MCUS), "runtimes": RUNTIMES}
    if "cpus" not in axes_doc and "mcus" in axes_doc:  # each part's own core
        parts = axes_doc["mcus"] if isinstance(axes_doc["mcus"], list) else [axes_doc["mcus"]]
        cores = [MCUS[m].core for m in parts if isinstance(m, str) and m in MCUS]
        axes_doc["cpus"] = list(dict.fromkeys(cores)) or DEFAULTS["cpus"]
    axes = {a: _strings(p, f"[axes] {a}", axes_doc.get(a, DEFAULTS.get(a)), allowed[a])
            for a in AXES}
    if not any(runs_on(c, m) for c in axes["cpus"] for m in axes["mcus"]):
        raise _err(p, f"no cpus entry runs on any mcus entry ({', '.join(axes['cpus'])} on "
                   f"{', '.join(axes['mcus'])}): each part runs its own core (leave cpus out "
                   "to take it), generic and large run any")
    models = {m: resolve_model(p, m) for m in axes["models"]}
    measure = doc.get("measure", {})
    if not isinstance(measure, dict):
        raise _err(p, "[measure] must be a table")
    bad = set(measure) - {"validate", "profile", "tolerance", "rtol"}
    if bad:
        raise _err(p, f"[measure] has unknown key {sorted(bad)[0]!r}; known: validate, "
                   "profile, tolerance, rtol")
    val = measure.get("validate", {"n": 50})
    if val is False:
        val = {"n": 0}
    if not isinstance(val, dict) or set(val) - {"n", "inputs", "chunk"}:
        raise _err(p, "[measure] validate must be { n = N } (and optionally inputs = "
                   "\"x.npz\", chunk = C)")
    chunk = val.get("chunk", 1000)
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
        raise _err(p, f"[measure] validate.chunk must be a positive integer, got {chunk!r}")
    n = val.get("n", 50)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise _err(p, f"[measure] validate.n must be a non-negative integer, got {n!r}")
    inputs = None
    if "inputs" in val:
        if not isinstance(val["inputs"], str):
            raise _err(p, "[measure] validate.inputs must be a path")
        inputs = (p.parent / val["inputs"]).resolve()
        if not inputs.is_file():
            raise _err(p, f"[measure] validate.inputs: no such file {inputs}")
    profile = measure.get("profile", True)
    if not isinstance(profile, bool):
        raise _err(p, "[measure] profile must be true or false")
    tol = {k: measure.get(k, 1e-5) for k in ("tolerance", "rtol")}
    for k, v in tol.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
            raise _err(p, f"[measure] {k} must be a non-negative number")
    return Sweep(p, models, axes, n, inputs, profile, float(tol["tolerance"]),
                 float(tol["rtol"]), chunk)


def resolve_model(sweep_file: Path, name: str) -> Path | str:
    """A model path relative to the sweep file, else a bundled model by name: ``seed`` (the
    bundled seed CNN) or a zoo model (returned as its name: it is built, seed 0, and saved
    beside the results)."""
    candidate = (sweep_file.parent / name).resolve()
    if candidate.is_file():
        return candidate
    if name == "seed":
        return Path(data_file(DEFAULT_MODEL))

    if name in {**zoo.ZOO, **zoo.MLPERF}:
        return name
    raise _err(sweep_file, f"[axes] models: {name!r} is neither a file (relative to the sweep "
               f"file) nor a bundled model (seed, {', '.join({**zoo.ZOO, **zoo.MLPERF})})")
