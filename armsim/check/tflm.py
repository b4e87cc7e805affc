"""The emulated TFLM against its host references: the model's outputs (integer outputs equal
in quantization steps, float outputs within atol + rtol x |host|), the TFLite interpreter as a
second reference where it accepts the model, and the per-operator comparison that names the
first operator whose output differs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from armsim.model.flatbuffer import FlatbufferModel, TensorInfo
from armsim.model.inputs import TensorCase
from armsim.session.results import HostOutputs, SimulateResult


def is_integer(t: TensorInfo) -> bool:
    """True for an integer (quantized or index) tensor."""
    return t.dtype in np.sctypeDict and np.issubdtype(np.dtype(t.dtype), np.integer)


def dequantize(t: TensorInfo, a: np.ndarray) -> np.ndarray:
    """Real values of a tensor's data (integer tensors through their scale and zero point,
    per channel where quantized so; others as float)."""
    x = np.asarray(a)
    if not (is_integer(t) and t.scales):
        return x.astype(np.float64)
    scales = np.asarray(t.scales, np.float64)
    zps = np.asarray(t.zero_points or (0,) * len(scales), np.float64)
    if len(scales) > 1 and x.ndim:
        axis = next((k for k, d in enumerate(x.shape) if d == len(scales)), x.ndim - 1)
        shape = [1] * x.ndim
        shape[axis] = len(scales)
        scales, zps = scales.reshape(shape), zps.reshape(shape)
    return (x.astype(np.float64) - zps) * scales


@dataclass
class Agreement:
    """Outputs against a reference.

    Attributes:
        agree: integer outputs equal, float outputs within atol + rtol x |ref|
        max_abs_diff: the largest difference in real units
        max_abs_diff_q: the largest difference in steps over integer outputs (None: none)
        first: where the largest difference is (output k, flat index), None if none
    """

    agree: bool
    max_abs_diff: float
    max_abs_diff_q: int | None
    first: tuple[int, int] | None = None


def compare(tensors: list[TensorInfo], got: list[np.ndarray], ref: list[np.ndarray],
            atol: float, rtol: float) -> Agreement:
    """``got`` against ``ref``, tensor by tensor."""
    agree = True
    worst, worst_q, where = 0.0, None, None
    for k, (t, g, r) in enumerate(zip(tensors, got, ref)):
        g, r = np.asarray(g).reshape(-1), np.asarray(r).reshape(-1)
        if g.shape != r.shape:
            return Agreement(False, float("inf"), None, (k, 0))
        if is_integer(t):
            d = np.abs(g.astype(np.int64) - r.astype(np.int64))
            q = int(d.max()) if d.size else 0
            worst_q = max(worst_q or 0, q)
            agree &= q == 0
        else:
            gf, rf = g.astype(np.float64), r.astype(np.float64)
            both_nan = np.isnan(gf) & np.isnan(rf)
            d = np.where(both_nan, 0.0, np.abs(gf - rf))
            d = np.where(np.isnan(d), np.inf, d)
            agree &= bool(np.all(d <= atol + rtol * np.abs(np.nan_to_num(rf))))
        real = np.abs(dequantize(t, g) - dequantize(t, r))
        real = np.where(np.isnan(real), 0.0 if not is_integer(t) else np.inf, real)
        if real.size and float(real.max()) > worst:
            worst, where = float(real.max()), (k, int(np.argmax(real)))
        elif where is None and real.size and d.size and float(d.max()) > 0:
            where = (k, int(np.argmax(d)))
    return Agreement(bool(agree), worst, worst_q, where)


def predicted(model: FlatbufferModel, outs: list[np.ndarray]) -> int | None:
    """The class of a classifier (one output fed by SOFTMAX or of one row of scores)."""
    if len(outs) != 1:
        return None
    sg = model.main
    out = sg.outputs[0]
    producer = next((op for op in sg.operators if out in op.outputs), None)
    if producer is None or producer.op_type not in ("SOFTMAX", "LOG_SOFTMAX"):
        return None
    return int(np.argmax(np.asarray(outs[0]).reshape(-1)))


def flat_real(model: FlatbufferModel, outs: list[np.ndarray]) -> list[float]:
    """The outputs dequantized, flat and joined in output order."""
    return [float(v) for t, o in zip(model.outputs, outs) for v in dequantize(t, o).reshape(-1)]


def flat_q(model: FlatbufferModel, outs: list[np.ndarray]) -> list[int] | Any:
    """The integer outputs' raw values, flat and joined (None when no output is integer)."""
    vals = [int(v) for t, o in zip(model.outputs, outs) if is_integer(t)
            for v in np.asarray(o).reshape(-1)]
    return vals if any(is_integer(t) for t in model.outputs) else None


def simulate_result(model: FlatbufferModel, case: TensorCase, run: Any, cpu: str,
                    host: list[np.ndarray] | None, host_source: str,
                    second: list[np.ndarray] | str | None, atol: float, rtol: float
                    ) -> SimulateResult:
    """One input of ``simulate --runtime tflm``: the emulated outputs against the host's, and
    the TFLite interpreter's difference beside it (``second``: its outputs, the reason it
    refused the model, or None when not run)."""
    outs = run.outputs
    res = SimulateResult(case.name, predicted(model, outs), flat_real(model, outs),
                         run.instructions, cpu)
    q = flat_q(model, outs)
    if q is not None:
        res.outputs_q = q
    if case.label is not None:
        res.label = case.label
        if res.predicted is not None:
            res.correct = res.predicted == case.label
    res.host_source = host_source
    if host is not None:
        hq = flat_q(model, host)
        res.host = HostOutputs(host_source, predicted(model, host), flat_real(model, host),
                               *([hq] if hq is not None else []))
        a = compare(model.outputs, outs, host, atol, rtol)
        res.agree, res.max_abs_diff = a.agree, a.max_abs_diff
        if a.max_abs_diff_q is not None:
            res.max_abs_diff_q = a.max_abs_diff_q
    if isinstance(second, str):
        res.tflite = {"refused": second}
    elif second is not None:
        b = compare(model.outputs, outs, second, atol, rtol)
        res.tflite = {"agree": b.agree, "max_abs_diff": b.max_abs_diff,
                      "outputs": flat_real(model, second)}
        if b.max_abs_diff_q is not None:
            res.tflite_max_diff_q = b.max_abs_diff_q
            res.tflite["max_abs_diff_q"] = b.max_abs_diff_q
    return res


def op_diffs(model: FlatbufferModel, emulated: dict[int, np.ndarray],
             host: dict[int, np.ndarray], kernels: str, atol: float, rtol: float
             ) -> dict[str, Any]:
    """Every operator's output on the chip against the host's, and the first that differs
    (its kernel set, and the difference in steps and in real units)."""
    rows = []
    first = None
    sg = model.main
    for op in sg.operators:
        for t in op.outputs:
            if t not in emulated or t not in host:
                continue
            info = sg.tensors[t]
            a = compare([info], [emulated[t]], [np.asarray(host[t]).reshape(
                np.asarray(emulated[t]).shape)], atol, rtol)
            row = {"op": op.index, "op_type": op.op_type, "tensor": info.name,
                   "dtype": info.dtype, "agree": a.agree,
                   "max_abs_diff": a.max_abs_diff}
            if a.max_abs_diff_q is not None:
                row["max_abs_diff_q"] = a.max_abs_diff_q
            rows.append(row)
            if not a.agree and first is None:
                first = {**row, "kernels": kernels}
    return {"ops": rows, "first_differing": first,
            "compared": len(rows), "operators": len(sg.operators)}
