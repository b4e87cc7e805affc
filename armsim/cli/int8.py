"""``simulate`` and ``validate`` on int8 TFLite models: the firmware's int8 outputs against
the TFLite reference interpreter's, element for element (the pass criterion is zero
difference in int8 steps), per-op diffs with the first diverging op, and with
``--float-model`` the quantization error kept apart from the emulator error."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from armsim.check import validate as V
from armsim.errors import ArmsimError
from armsim.graph import Graph
from armsim.model.tflite_host import TFLiteHost
from armsim.cli import common as C
from armsim.report import tables as render


def dequantize(g: Graph, q: np.ndarray) -> np.ndarray:
    """Flat int8 outputs (all outputs joined) -> float32 real values."""
    parts, k = [], 0
    for name in g.outputs:
        t = g.tensors[name]
        assert t.quant is not None
        parts.append(t.quant.dequantize(q[..., k:k + t.size]))
        k += t.size
    return np.concatenate(parts, axis=-1)


def dequantize_input(g: Graph, xq: np.ndarray) -> np.ndarray:
    """int8 inputs -> their real values."""
    q = g.tensors[g.inputs[0]].quant
    assert q is not None
    return q.dequantize(xq)


def quantized_inputs(g: Graph, host: TFLiteHost, xs: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, str]:
    """(int8 inputs, their float values, how they were made) from int8 or float rows."""
    q = g.tensors[g.inputs[0]].quant
    assert q is not None
    if xs.dtype == np.int8:
        return xs, dequantize_input(g, xs), "int8 inputs used as given"
    xf = np.asarray(xs, np.float32)
    if g.float_edges[0]:  # the file quantizes its own input: take the interpreter's result
        rows = []
        for x in xf:
            host.invoke(x)
            rows.append(host.input_q())
        return np.stack(rows), xf, "float inputs quantized by the model's own QUANTIZE op"
    return (q.quantize(xf), xf,
            f"float inputs quantized with the input scale {q.scale:.6g} and zero point "
            f"{q.zero_point}: q = round(x / scale) + zero_point, clamped to -128..127")


def _float_model(args: argparse.Namespace) -> Any:
    path = getattr(args, "float_model", None)
    if not path:
        return None
    from armsim.model.frontends import load_model

    fg, model = load_model(path, getattr(args, "trust_model", False))
    if fg.quantized:
        raise ArmsimError(f"--float-model {path}: give the float32 .keras model")
    return model


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
    if g.is_classifier():
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
        e = res.tensors[name].astype(np.int32)
        h = ref[name].astype(np.int32)
        steps = int(np.abs(e - h).max()) if e.size else 0
        q = g.tensors[name].quant
        assert q is not None
        ops.append({"op": op.name, "tflite": op.layer, "tensor": name,
                    "max_abs_diff_q": steps, "max_abs_diff": steps * q.scale,
                    "elements_differing": int(np.count_nonzero(e != h))})
        if steps and first is None:
            first = op.name
    return {"ops": ops, "first_divergence": first}


def simulate(args: argparse.Namespace, ref: C.ModelRef) -> int:
    """``armsim simulate --model M.tflite``."""
    results: list[Any] | None = None
    if args.script:  # the script's weights and input, on the model's plan
        st = C.script_setup(args)
        g, s, cpu = st.graph, st.session, st.cpu
        host = TFLiteHost(ref.path, g)
        cases = [C.Case(args.script, None, st.x)]
        results = [s.resume()]
        prep = "the input the script wrote (the interpreter uses the file's weights)"
        xq, xf, how = st.x[np.newaxis], dequantize_input(g, st.x[np.newaxis]), "int8"
    else:
        mr = C.model_run(args, ref)
        g, s, cpu = mr.graph, mr.session, mr.cpu
        host = TFLiteHost(ref.path, g)
        cases, prep = C.cases(args, g)
        xs = np.stack([c.x for c in cases])
        xq, xf, how = quantized_inputs(g, host, xs)
    float_model = _float_model(args)
    float_out = None
    if float_model is not None:
        from armsim.model import keras_host

        float_out = keras_host.predict(float_model, xf)
    classifier = g.is_classifier()
    rows: list[dict[str, Any]] = []
    bounds = getattr(args, "check_bounds", False)
    for i, c in enumerate(cases):
        r = results[i] if results is not None else s.run(xq[i], check_bounds=bounds)
        host.invoke(xf[i] if g.float_edges[0] else xq[i])
        hq = host.outputs_q()
        eq = r.outputs.astype(np.int8)
        steps = int(np.abs(eq.astype(np.int32) - hq.astype(np.int32)).max())
        scale = max(g.tensors[n].quant.scale for n in g.outputs)  # type: ignore[union-attr]
        row: dict[str, Any] = {
            "name": c.name, "predicted": r.predicted, "outputs_q": [int(v) for v in eq],
            "outputs": [float(v) for v in dequantize(g, eq)], "instructions": r.instructions,
            "cpu": cpu.name,
            "host": {"source": f"TFLite interpreter ({host.library}, reference kernels)",
                     "predicted": int(np.argmax(hq)) if classifier else None,
                     "outputs_q": [int(v) for v in hq],
                     "outputs": [float(v) for v in dequantize(g, hq)]},
            "max_abs_diff_q": steps, "max_abs_diff": steps * scale, "agree": steps == 0}
        if c.label is not None:
            row["label"] = c.label
            if r.predicted is not None:
                row["correct"] = r.predicted == c.label
        if float_out is not None:
            row["quantization"] = quantization_error(
                g, hq[np.newaxis], float_out[i:i + 1],
                None if c.label is None else np.array([c.label]))
        if bounds:
            row["overruns"] = [o.to_json() for o in r.overruns]
        row["versions"] = versions(cpu)
        rows.append(row)
    mismatch = any(not r["agree"] for r in rows) or any(r.get("overruns") for r in rows)
    if mismatch or args.layers:
        picks = [i for i, r in enumerate(rows) if args.layers or not r["agree"]][:3]
        for i in picks:
            rows[i]["diagnosis"] = op_diffs(s, host, g, xq[i], xf[i])
    if args.json:
        print(json.dumps(rows[0] if len(rows) == 1 else rows, indent=2))
    else:
        render.simulate_table_q(rows, g.name, cpu.title, f"{prep}; {how}")
        for r in rows:
            if "diagnosis" in r:
                render.diagnosis_q(r["name"], r["diagnosis"])
        render.overruns(rows, bounds)
    return C.EXIT_MISMATCH if mismatch else C.EXIT_OK


def versions(cpu: Any) -> dict[str, str]:
    """The usual versions (CMSIS-NN's commit among them) and the interpreter's."""
    from armsim.model.tflite_host import version

    out = C.versions(cpu)
    out["tflite_interpreter"] = version()
    return out


def validate(args: argparse.Namespace, ref: C.ModelRef,
             inputs: tuple[np.ndarray, np.ndarray | None, str]) -> int:
    """``armsim validate --model M.tflite``: every input bit-exact, or exit 1."""
    mr = C.model_run(args, ref)
    g, s, cpu, plan = mr.graph, mr.session, mr.cpu, mr.plan
    host = TFLiteHost(ref.path, g)
    xs, labels, what = inputs
    xq, xf, how = quantized_inputs(g, host, xs)
    spec = V.RunSpec.of(s)
    jobs = args.jobs or V.default_jobs()
    with render.progress(not (args.json or args.quiet)) as bar:
        task = bar.add(f"TFLite interpreter on {len(xq)} inputs", len(xq))
        host_q = host.predict_q(xf if g.float_edges[0] else xq,
                                progress=lambda k: bar.advance(task, k))
        from armsim.cli.validate import emulate

        run_ = emulate(args, spec, xq, jobs, bar)
    emu_q = run_.outputs.astype(np.int8)
    diff = np.abs(emu_q.astype(np.int32) - host_q.astype(np.int32))
    per_input = diff.max(axis=1) if diff.size else np.zeros(len(xq), np.int32)
    scale = max(g.tensors[n].quant.scale for n in g.outputs)  # type: ignore[union-attr]
    res: dict[str, Any] = {
        "n": len(xq), "model": g.name, "inputs": f"{what}; {how}", "start": args.start,
        "cpu": cpu.name, "kernels": s.build.kernels, "jobs": jobs, "plan": plan.preset,
        "dtype": "int8", "host_source": f"TFLite interpreter ({host.library}, reference kernels)",
        "max_abs_diff_q": int(per_input.max()) if len(per_input) else 0,
        "max_abs_diff": float(per_input.max() * scale) if len(per_input) else 0.0,
        "bit_exact_inputs": int(np.sum(per_input == 0)),
        "differing_inputs": [int(args.start + i) for i in np.flatnonzero(per_input)[:20]],
        "elements_differing": int(np.count_nonzero(diff))}
    if g.is_classifier():
        hp, ep = np.argmax(host_q, 1), np.argmax(emu_q, 1)
        res["agreement"] = float(np.mean(hp == ep))
        if labels is not None:
            res["host_accuracy"] = float(np.mean(hp == labels))
            res["emulator_accuracy"] = float(np.mean(ep == labels))
    float_model = _float_model(args)
    if float_model is not None:
        from armsim.model import keras_host

        res["quantization"] = quantization_error(g, host_q, keras_host.predict(float_model, xf),
                                                 labels)
    res["instructions"] = {"min": int(run_.instructions.min()),
                           "median": float(np.median(run_.instructions)),
                           "max": int(run_.instructions.max()),
                           "total": int(run_.instructions.sum())}
    res["seconds"] = round(run_.seconds, 3)
    res["inputs_per_second"] = round(len(xq) / run_.seconds, 1) if run_.seconds else None
    res["passed"] = res["max_abs_diff_q"] == 0
    res["versions"] = versions(cpu)
    if args.layers or not res["passed"]:
        picks = list(np.flatnonzero(per_input)[:3]) or [0]
        res["diagnosis"] = [{"input": f"input #{args.start + int(i)}",
                             **op_diffs(s, host, g, xq[i], xf[i])} for i in picks]
        res["overruns"] = [o.to_json() for i in picks
                           for o in s.run(xq[i], check_bounds=True).overruns]
        res["passed"] = res["passed"] and not res["overruns"]
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        render.validation_q(res)
        for d in res.get("diagnosis", []):
            render.diagnosis_q(d["input"], d)
        if "overruns" in res:
            render.overruns([res], True)
    return C.EXIT_OK if res["passed"] else C.EXIT_MISMATCH
