"""int8 checks: the firmware's integer outputs against the interpreter's in quantization
steps (one comparison for simulate, validate, the per-op diagnosis and the sweep), the
inputs quantized as the model expects them, and the quantization error of the int8 model
against its float one, kept apart from the emulator's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from armsim import quant as Q
from armsim.check.validate import EmulatorRun, timing
from armsim.graph import Graph
from armsim.model import metrics
from armsim.model.inputs import Rows, stack
from armsim.model.tflite_host import TFLiteHost
from armsim.ops import registry
from armsim.session.results import ValidateResult


@dataclass(frozen=True)
class StepDiff:
    """Integer outputs against the reference's, in steps, for N inputs (rows).

    Attributes:
        per_input: the largest difference of each input, in steps
        max_q: the largest difference, in steps
        max_real: ``max_q`` in real units (times the outputs' largest scale)
        elements_differing: outputs that differ, over all inputs
    """

    per_input: np.ndarray
    max_q: int
    max_real: float
    elements_differing: int

    @property
    def bit_exact(self) -> bool:
        """Every output of every input equal."""
        return self.max_q == 0

    @property
    def differing_inputs(self) -> np.ndarray:
        """Indices of the inputs with a difference."""
        return np.flatnonzero(self.per_input)


def steps(emu_q: np.ndarray, host_q: np.ndarray, scale: float) -> StepDiff:
    """Compare integer outputs ``(N, outputs)`` element for element (the pass criterion of
    int8 models is zero difference); ``scale`` turns steps into real units."""
    e = np.asarray(emu_q).astype(np.int64).reshape(len(emu_q), -1)
    h = np.asarray(host_q).astype(np.int64).reshape(len(host_q), -1)
    diff = np.abs(e - h)
    per_input = diff.max(axis=1) if diff.size else np.zeros(len(e), np.int64)
    top = int(per_input.max()) if len(per_input) else 0
    return StepDiff(per_input, top, float(top * scale), int(np.count_nonzero(diff)))


def output_scale(g: Graph) -> float:
    """The largest scale of the graph's outputs (steps -> real units, conservatively)."""
    return max(g.tensors[n].quant.scale for n in g.outputs)  # type: ignore[union-attr]


def dequantize(g: Graph, q: np.ndarray) -> np.ndarray:
    """Flat int8 outputs (all outputs joined) -> float32 real values."""
    parts, k = [], 0
    for name in g.outputs:
        t = g.tensors[name]
        assert t.quant is not None
        parts.append(t.quant.dequantize(q[..., k:k + t.size]))
        k += t.size
    return np.concatenate(parts, axis=-1)


def dequantize_input(g: Graph, xq: Any) -> Any:
    """int8 inputs -> their real values (Rows for a model with several inputs)."""
    if isinstance(xq, Rows):
        return Rows(tuple(_quant(g, k).dequantize(a) for k, a in enumerate(xq.arrays)))
    return _quant(g, 0).dequantize(xq)


def _quant(g: Graph, k: int) -> Any:
    q = g.tensors[g.inputs[k]].quant
    assert q is not None
    return q


def quantized_inputs(g: Graph, host: TFLiteHost, xs: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, str]:
    """(int8 inputs, their float values, how they were made) from int8 or float rows (Rows
    for a model with several inputs: each quantized with its own input's scale)."""
    lo, hi = Q.RANGES[g.dtype]
    if isinstance(xs, Rows):
        if xs.dtype == np.dtype(g.dtype):
            return xs, dequantize_input(g, xs), f"{g.dtype} inputs used as given"
        xf = xs.astype(np.float32)
        if g.float_edges[0]:
            rows = []
            for i in range(len(xf)):
                host.invoke(xf[i])
                rows.append(host.input_q())
            return stack(rows), xf, "float inputs quantized by the model's own QUANTIZE ops"
        return (Rows(tuple(_quant(g, k).quantize(a, g.dtype) for k, a in enumerate(xf.arrays))),
                xf, "float inputs quantized with each input's scale and zero point: q = "
                f"round(x / scale) + zero_point, clamped to {lo}..{hi}")
    q = _quant(g, 0)
    if xs.dtype == np.dtype(g.dtype):
        return xs, dequantize_input(g, xs), f"{g.dtype} inputs used as given"
    xf = np.asarray(xs, np.float32)
    if g.float_edges[0]:  # the file quantizes its own input: take the interpreter's result
        rows = []
        for x in xf:
            host.invoke(x)
            rows.append(host.input_q())
        return np.stack(rows), xf, "float inputs quantized by the model's own QUANTIZE op"
    return (q.quantize(xf, g.dtype), xf,
            f"float inputs quantized with the input scale {q.scale:.6g} and zero point "
            f"{q.zero_point}: q = round(x / scale) + zero_point, clamped to {lo}..{hi}")


def quantization_error(g: Graph, out_q: np.ndarray, float_out: np.ndarray,
                       labels: np.ndarray | None) -> dict[str, Any]:
    """How far the int8 model (the interpreter's outputs) is from the float model."""
    deq = dequantize(g, out_q).astype(np.float64).reshape(len(out_q), -1)
    f = float_out.astype(np.float64).reshape(len(out_q), -1)
    d = deq - f
    res: dict[str, Any] = {
        "max_abs": float(np.abs(d).max()) if d.size else 0.0,
        "mae": float(np.abs(d).mean()) if d.size else 0.0,
        "cos": float(np.sum(deq * f) / max(np.linalg.norm(deq) * np.linalg.norm(f), 1e-300))}
    if registry.is_classifier(g):
        res["agreement"] = float(np.mean(np.argmax(deq, 1) == np.argmax(f, 1)))
        if labels is not None:
            res["int8_accuracy"] = float(np.mean(np.argmax(deq, 1) == labels))
            res["float_accuracy"] = float(np.mean(np.argmax(f, 1) == labels))
    return res


def op_diffs(s: Any, host: TFLiteHost, g: Graph, xq: np.ndarray, xf: np.ndarray
             ) -> dict[str, Any]:
    """Every op's int8 output on the emulator against the interpreter's, in steps and in
    real units, and the first op that differs."""
    res = s.run(xq, per_op=True)
    host.invoke(xf if g.float_edges[0] else xq)
    ref = host.op_outputs()
    ops, first = [], None
    for op in g.ops:
        name = op.outputs[0]
        if name not in res.tensors or name not in ref:
            continue
        q = g.tensors[name].quant
        assert q is not None
        d = steps(res.tensors[name].reshape(1, -1), ref[name].reshape(1, -1), q.scale)
        ops.append({"op": op.name, "tflite": op.layer, "tensor": name,
                    "max_abs_diff_q": d.max_q, "max_abs_diff": d.max_real,
                    "elements_differing": d.elements_differing})
        if d.max_q and first is None:
            first = op.name
    return {"ops": ops, "first_divergence": first}


def validation(g: Graph, run: EmulatorRun, host_q: np.ndarray, labels: np.ndarray | None,
               start: int = 0, steps_allowed: int = 0) -> ValidateResult:
    """``armsim validate`` of an int8 model: the emulator's integer outputs against the
    reference's, every input bit-exact or not (the caller adds what ran where)."""
    emu_q = run.outputs.astype(g.output_dtype)
    d = steps(emu_q, host_q, output_scale(g))
    res = ValidateResult(len(emu_q), dtype=g.output_dtype, max_abs_diff_q=d.max_q,
                         max_abs_diff=d.max_real,
                         bit_exact_inputs=int(np.sum(d.per_input == 0)),
                         differing_inputs=[int(start + i) for i in d.differing_inputs[:20]],
                         elements_differing=d.elements_differing)
    if registry.is_classifier(g):
        hp, ep = np.argmax(host_q, 1), np.argmax(emu_q, 1)
        res.agreement = float(np.mean(hp == ep))
        if labels is not None:
            res.host_accuracy = float(np.mean(hp == labels))
            res.emulator_accuracy = float(np.mean(ep == labels))
            classes = int(host_q.shape[1])
            res.confusion_matrix = {
                "host": metrics.confusion_matrix(labels, hp, classes).tolist(),
                "emulator": metrics.confusion_matrix(labels, ep, classes).tolist()}
    timing(res, run)
    res.passed = d.max_q <= steps_allowed
    return res
