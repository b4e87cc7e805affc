"""The result types of ``simulate`` and ``validate`` (``profile`` and ``run`` have theirs in
:mod:`armsim.session.profile` and :mod:`armsim.session.image_run`): small dataclasses with one
documented JSON form, the schemas in ``armsim/schemas/`` (checked by the tests). The terminal
tables, the HTML pages and the sweep store read these objects.

A field that does not apply to a result (a label for an input without one, the int8 fields of
a float model) holds :data:`ABSENT` and is left out of the JSON; ``None`` is a JSON null.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from armsim.timing.accuracy import error_json


class _Absent:
    """The value of a field that is not part of a result (omitted from its JSON)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:  # one object across pickling (Dask, process pools)
        return "ABSENT"


ABSENT: Any = _Absent()


def present(value: Any) -> bool:
    """True for a field that is part of its result (anything but :data:`ABSENT`)."""
    return value is not ABSENT


def fields_json(obj: Any) -> dict[str, Any]:
    """A dataclass's fields as JSON data, in declaration order, ABSENT ones left out."""
    return {f.name: to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)
            if present(getattr(obj, f.name))}


def to_json(obj: Any) -> Any:
    """``obj`` as JSON data: objects with their own ``to_json`` asked, other dataclasses
    field by field (ABSENT fields left out), containers recursively, numpy values as
    Python's."""
    if hasattr(obj, "to_json") and not isinstance(obj, type):
        return obj.to_json()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return fields_json(obj)
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items() if present(v)}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a command's ``--json`` output: ``simulate``, ``validate``,
    ``profile`` or ``run``."""
    text = resources.files("armsim").joinpath("schemas", f"{name}.schema.json").read_text()
    return json.loads(text)


@dataclass
class HostOutputs:
    """What the host reference computed for one input.

    Attributes:
        source: which host (``model``, the TFLite interpreter, "rebuilt from the script's
            weights", ...)
        predicted: its class (classifiers), else None
        outputs: its outputs, flat (dequantized for integer models)
        outputs_q: the integer outputs (int8 models)
    """

    source: str
    predicted: int | None
    outputs: list[float]
    outputs_q: list[int] = ABSENT


@dataclass
class SimulateResult:
    """One input of ``armsim simulate`` (``--json``: one object per input).

    Attributes:
        name: the input (``test #3``, ``x.npy[0]``, the script)
        predicted: the class the firmware computed (classifiers), else None
        outputs: the firmware's outputs, flat in the model's output order (dequantized for
            int8 models)
        outputs_q: int8 models: the raw integer outputs
        outputs_by_name: a model with several outputs: each output's values by tensor name
        instructions: executed, exactly
        cpu: the CPU variant
        label: the input's label, when known
        correct: predicted == label, when both are known
        host: the host reference's outputs
        max_abs_diff: the largest |firmware - host| (real units)
        max_abs_diff_q: int8 models: the same in quantization steps
        max_ulp: float models: the largest distance in float32 units in the last place
        agree: the agreement rule held (float: every output within atol + rtol x |host| and
            the same class; int8: every output equal)
        host_source: float models: where the host came from
        note, warnings: what the user should know about this run
        quantization: int8 models with ``--float-model``: the int8 model's error against the
            float one (not the emulator's)
        overruns: ``--check-bounds``: stores outside an op's buffers
        memory_findings: ``--check-memory``: the firmware's memory errors
        runtime, kernels: ``--runtime tflm``: "tflm" and TFLM's kernel set
        arena_bytes, arena: ``--runtime tflm``: the tensor arena linked (the smallest that
            works, unless ``--arena``) and how it was found, with TFLM's recording
            allocator's breakdown
        tflite: the TFLite interpreter as a second reference: its agreement and outputs, or
            the reason it refused the model
        tflite_max_diff_q: integer outputs: the difference to the TFLite interpreter in steps
        versions: armsim, the engine, the CPU model, the libraries
        diagnosis: the per-op comparison of a diagnosed input (null: not this input)
        cycles_estimate, clock_mhz, latency_ms, wait_states, flash, flash_accel,
            estimate_note: the run's
            estimated cycles and its latency at the part's clock (or --clock-mhz), with the
            flash set-up the estimate used (:func:`set_latency`)
    """

    name: str
    predicted: int | None
    outputs: list[float]
    instructions: int
    cpu: str
    outputs_q: list[int] = ABSENT
    outputs_by_name: dict[str, list[float]] = ABSENT
    label: int = ABSENT
    correct: bool = ABSENT
    host: HostOutputs = ABSENT
    max_abs_diff: float = ABSENT
    max_abs_diff_q: int = ABSENT
    max_ulp: int = ABSENT
    agree: bool = ABSENT
    host_source: str = ABSENT
    note: str = ABSENT
    warnings: list[str] = ABSENT
    quantization: dict[str, Any] = ABSENT
    overruns: list[dict[str, Any]] = ABSENT
    memory_findings: list[dict[str, Any]] = ABSENT
    runtime: str = ABSENT
    kernels: str = ABSENT
    arena_bytes: int = ABSENT
    arena: dict[str, Any] = ABSENT
    tflite: dict[str, Any] = ABSENT
    tflite_max_diff_q: int = ABSENT
    versions: dict[str, str] = field(default_factory=dict)
    diagnosis: dict[str, Any] | None = ABSENT
    cycles_estimate: float = ABSENT
    clock_mhz: float | None = ABSENT
    latency_ms: float | None = ABSENT
    wait_states: int = ABSENT
    flash: str = ABSENT
    flash_accel: str = ABSENT
    estimate_note: str = ABSENT
    estimate_error_pct: dict[str, Any] = ABSENT

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (``armsim/schemas/simulate.schema.json``)."""
        return fields_json(self)


@dataclass
class ValidateResult:
    """``armsim validate``: many inputs through the emulator and the host.

    Attributes:
        n: inputs
        model, inputs, start, cpu, mcu, kernels, jobs, plan: what ran, on what
        dtype: "int8" for int8 models
        host_source: where the host came from
        task: float models: "classification" or "regression"
        max_abs_diff: the largest |emulator - host| over every output (real units)
        max_abs_diff_q, bit_exact_inputs, differing_inputs, elements_differing: int8 models:
            the comparison in quantization steps
        rmse, mae, l2r, cos, mean_error, std_error, max_ulp, nan_outputs: float models: the
            error metrics over every output
        tolerance, rtol, within_tolerance: float models: the rule and whether every output
            kept it
        agreement, disagreeing_inputs: classifiers: the share of inputs with the host's class,
            and the first ones without
        host_accuracy, emulator_accuracy, confusion_matrix, classification_report: with labels
        quantization: int8 models with ``--float-model``: the int8 model's error against the
            float model's
        instructions: min, median, max and total per input
        seconds, inputs_per_second: the emulation's wall time
        passed: the verdict
        versions: armsim, the engine, the CPU model, the libraries
        note, warning, layout_search: what a script's rebuilt host suggests
        diagnosis, overruns: the per-op diagnosis of a few inputs, and their bounds check
        plot, html: files written
        runtime, arena_bytes, arena: ``--runtime tflm``: "tflm", the tensor arena and how it
            was found
        tflite_max_diff_q: integer outputs: the largest difference to the TFLite interpreter
            (a second reference beside TFLM's arithmetic), in steps
        cycles_estimate: estimated cycles per input (min, median, max)
        latency_ms: the latency per input at ``clock_mhz`` (``per_input``), its ``mean`` and
            its ``max``; clock_mhz, wait_states, flash, flash_accel, estimate_note: as
            simulate's
    """

    n: int
    model: str = ABSENT
    inputs: str = ABSENT
    start: int = ABSENT
    cpu: str = ABSENT
    mcu: str = ABSENT
    kernels: str = ABSENT
    jobs: int = ABSENT
    plan: str = ABSENT
    dtype: str = ABSENT
    host_source: str = ABSENT
    task: str = ABSENT
    max_abs_diff: float = ABSENT
    max_abs_diff_q: int = ABSENT
    bit_exact_inputs: int = ABSENT
    differing_inputs: list[int] = ABSENT
    elements_differing: int = ABSENT
    rmse: float = ABSENT
    mae: float = ABSENT
    l2r: float = ABSENT
    cos: float = ABSENT
    mean_error: float = ABSENT
    std_error: float = ABSENT
    max_ulp: int | None = ABSENT
    nan_outputs: int = ABSENT
    tolerance: float = ABSENT
    rtol: float = ABSENT
    within_tolerance: bool = ABSENT
    agreement: float = ABSENT
    disagreeing_inputs: list[int] = ABSENT
    host_accuracy: float = ABSENT
    emulator_accuracy: float = ABSENT
    confusion_matrix: dict[str, list[list[int]]] = ABSENT
    classification_report: dict[str, str] = ABSENT
    quantization: dict[str, Any] = ABSENT
    instructions: dict[str, float] = ABSENT
    seconds: float = ABSENT
    inputs_per_second: float | None = ABSENT
    passed: bool = False
    versions: dict[str, str] = ABSENT
    note: str = ABSENT
    warning: str = ABSENT
    layout_search: dict[str, Any] | None = ABSENT
    diagnosis: list[dict[str, Any]] = ABSENT
    overruns: list[dict[str, Any]] = ABSENT
    plot: str = ABSENT
    html: str = ABSENT
    runtime: str = ABSENT
    arena_bytes: int = ABSENT
    arena: dict[str, Any] = ABSENT
    tflite_max_diff_q: int = ABSENT
    cycles_estimate: dict[str, float] = ABSENT
    clock_mhz: float | None = ABSENT
    latency_ms: dict[str, Any] = ABSENT
    wait_states: int = ABSENT
    flash: str = ABSENT
    flash_accel: str = ABSENT
    estimate_note: str = ABSENT
    estimate_error_pct: dict[str, Any] = ABSENT

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (``armsim/schemas/validate.schema.json``)."""
        return fields_json(self)


def latency_ms(cycles: float, clock_mhz: float | None) -> float | None:
    """Milliseconds of ``cycles`` at ``clock_mhz`` (None without a clock): every command's
    ``latency_ms``, an estimate as its cycles are."""
    return round(cycles / clock_mhz / 1000, 6) if clock_mhz else None


#: What every latency and cycle figure is (the JSON's ``estimate_note``; the measured error
#: on the run's core is ``estimate_error_pct``, armsim/timing/accuracy.py).
ESTIMATE_NOTE = ("cycles and latency_ms are estimates from armsim's per-core timing tables, "
                 "not measurements; their measured error per core: docs/cycle-model.md in the "
                 "source")


def set_latency(res: Any, cycles: Any, fetch: Any, mcu: str | None = None) -> None:
    """A result's estimated cycles and latency: one run's (``simulate``: ``cycles`` a number)
    or many (``validate``: an array, one per input: min/median/max cycles, per-input, mean
    and largest latency), at ``fetch``'s clock with its flash set-up (flash.Fetch)."""
    if np.ndim(cycles) == 0:
        res.cycles_estimate = round(float(cycles), 1)
        res.latency_ms = latency_ms(float(cycles), fetch.clock_mhz)
    else:
        c = np.asarray(cycles, np.float64)
        res.cycles_estimate = {"min": round(float(c.min()), 1),
                               "median": round(float(np.median(c)), 1),
                               "max": round(float(c.max()), 1)}
        ms = [latency_ms(float(v), fetch.clock_mhz) for v in c]
        res.latency_ms = {"per_input": ms,
                          "mean": latency_ms(float(c.mean()), fetch.clock_mhz),
                          "max": latency_ms(float(c.max()), fetch.clock_mhz)}
    res.clock_mhz, res.wait_states = fetch.clock_mhz, fetch.wait_states
    res.flash, res.flash_accel = fetch.note, fetch.accel
    res.estimate_note = ESTIMATE_NOTE
    if present(getattr(res, "cpu", ABSENT)):  # else set with the cpu (set_error_pct)
        set_error_pct(res, mcu)


def set_error_pct(res: Any, mcu: str | None = None) -> None:
    """A result's ``estimate_error_pct``: the cycle model's measured error on its core (and
    part, where the user measured theirs)."""
    part = mcu or (res.mcu if present(getattr(res, "mcu", ABSENT)) else None)
    res.estimate_error_pct = error_json(res.cpu, part)


def name_outputs(res: Any, g: Any) -> None:
    """A result's ``outputs`` split by the graph's output tensors (several outputs only)."""
    if len(g.outputs) < 2:
        return
    flat, out, at = list(res.outputs), {}, 0
    for name in g.outputs:
        n = g.tensors[name].size
        out[name] = flat[at:at + n]
        at += n
    res.outputs_by_name = out


def fit_problems(mcu: Any, ram_total: int, ram_parts: str, flash_total: int,
                 flash_parts: str = "") -> list[str]:
    """What does not fit MCU preset ``mcu``: the RAM and the flash a footprint needs, each
    with what it is made of (empty: it fits). One check for every runtime's footprint."""
    problems = []
    if ram_total > mcu.sram_size:
        problems.append(f"RAM: needs {ram_total:,} bytes ({ram_parts}); {mcu.name} has "
                        f"{mcu.sram_size:,}")
    if flash_total > mcu.flash_size:
        problems.append(f"flash: needs {flash_total:,} bytes"
                        + (f" ({flash_parts})" if flash_parts else "")
                        + f"; {mcu.name} has {mcu.flash_size:,}")
    return problems
