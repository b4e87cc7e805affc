"""``simulate`` and ``validate`` on int8 TFLite models: the firmware's int8 outputs against
the TFLite reference interpreter's, element for element (the pass criterion is zero
difference in int8 steps), per-op diffs with the first diverging op, and with
``--float-model`` the quantization error kept apart from the emulator error."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from armsim.check import int8 as Q
from armsim.check import validate as V
from armsim.check.dask import emulate
from armsim.check.simulate import int8_result
from armsim.cli import common as C
from armsim.cli import script_setup as S
from armsim.errors import EXIT_CHECK_FAILED, EXIT_OK, ArmsimError, ModelError
from armsim.model import inputs, keras_host
from armsim.model.frontends.load import load_model
from armsim.ops import registry
from armsim.report import tables as render
from armsim.session.results import name_outputs, present, set_latency
from armsim.session.versions import versions


def _float_model(args: argparse.Namespace) -> Any:
    path = getattr(args, "float_model", None)
    if not path:
        return None

    fg, model = load_model(path, getattr(args, "trust_model", False))
    if fg.quantized:
        raise ArmsimError(f"--float-model {path}: give the float32 .keras model")
    return model


def simulate(args: argparse.Namespace, ref: C.ModelRef) -> int:
    """``armsim simulate --model M.tflite``."""
    results: list[Any] | None = None
    if args.script:  # the script's weights and input, on the model's plan
        st = S.script_setup(args)
        g, s, cpu = st.graph, st.session, st.cpu
        host, second = C.int8_reference(args, ref.path, g)
        cases = [inputs.Case(args.script, None, st.x)]
        results = [s.resume()]
        prep = "the input the script wrote (the interpreter uses the file's weights)"
        xq = inputs.stack([st.x])
        xf, how = Q.dequantize_input(g, xq), g.dtype
    else:
        mr = C.model_run(args, ref)
        g, s, cpu = mr.graph, mr.session, mr.cpu
        host, second = C.int8_reference(args, ref.path, g)
        cases, prep = C.cases(args, g)
        xs = inputs.stack([c.x for c in cases])
        xq, xf, how = Q.quantized_inputs(g, host, xs)
    float_model = _float_model(args)
    float_out = None
    if float_model is not None:
        float_out = keras_host.predict(float_model, xf)
    classifier = registry.is_classifier(g)
    rows = []
    bounds = getattr(args, "check_bounds", False)
    source = host.source
    allowed, why = host_steps(host, g)
    for i, c in enumerate(cases):
        r = results[i] if results is not None else s.run(xq[i], check_bounds=bounds)
        host.invoke(xf[i] if g.float_edges[0] else xq[i])
        hq = host.outputs_q()
        row = int8_result(c, r, cpu.name, g, hq, source, classifier, allowed)
        if why:
            row.note = why
        row.kernels = s.build.kernels
        failed = ""
        if second is not None:
            try:
                second.invoke(xf[i] if g.float_edges[0] else xq[i])
            except ModelError as e:  # the second reference stops; the host above ran
                failed = str(e)
                row.tflite = {"source": second.source, "failed": failed}
        if second is not None and not failed:
            d = Q.steps(r.outputs.astype(g.output_dtype)[np.newaxis],
                        second.outputs_q()[np.newaxis], Q.output_scale(g))
            row.tflite_max_diff_q = d.max_q
            row.tflite = {"source": second.source, "agree": d.bit_exact,
                          "max_abs_diff_q": d.max_q, "max_abs_diff": d.max_real}
        if float_out is not None:
            row.quantization = Q.quantization_error(
                g, hq[np.newaxis], float_out[i:i + 1],
                None if c.label is None else np.array([c.label]))
        if bounds:
            row.overruns = [o.to_json() for o in r.overruns]
        row.versions = versions(cpu, tflite=True, tflm=second is not None)
        name_outputs(row, g)
        set_latency(row, r.cycles_estimate, s.fetch, s.mcu.name)
        rows.append(row)
    mismatch = any(not r.agree for r in rows) or any(r.overruns for r in rows)
    if mismatch or args.layers:
        picks = [i for i, r in enumerate(rows) if args.layers or not r.agree][:3]
        for i in picks:
            rows[i].diagnosis = Q.op_diffs(s, host, g, xq[i], xf[i])
    if args.json:
        out = [r.to_json() for r in rows]
        print(json.dumps(out[0] if len(out) == 1 else out, indent=2))
    else:
        render.simulate_table_q(rows, g.name, cpu.title, f"{prep}; {how}")
        for r in rows:
            if r.diagnosis:
                render.diagnosis_q(r.name, r.diagnosis)
        render.overruns(rows, bounds)
    return EXIT_CHECK_FAILED if mismatch else EXIT_OK


def host_steps(host: Any, g: Any = None) -> tuple[int, str]:
    """(steps an int8 output may differ by, why) for ``host``: 0 for a reference-arithmetic
    host (TFLM, the interpreter's reference kernels); 1 when the interpreter had to run its
    builtin kernels (the reference set lacks or aborts on one of the file's operators),
    whose requantization may round a value one step otherwise, and for a 16x8 model ``g``
    the interpreter checks instead of TFLM (its int16 kernels requantize otherwise)."""
    kernels = getattr(host, "kernels", "")
    if g is not None and g.dtype == "int16" and not host.source.startswith("TFLM"):
        return 1, ("TFLM cannot run this 16x8 model, so the TFLite interpreter checks it; "
                   "its int16 kernels requantize a 64-bit accumulator with the full 32-bit "
                   "multiplier where TFLM (whose arithmetic CMSIS-NN's s16 kernels follow) "
                   "uses a 16-bit one, so agreement allows one step, not bit-exactness")
    if not kernels.startswith("builtin"):
        return 0, ""
    return 1, (f"the host ran TFLite's builtin kernels ({kernels}); they may round a "
               "requantization one step otherwise than the reference arithmetic armsim "
               "follows, so agreement allows one step, not bit-exactness")


def validate(args: argparse.Namespace, ref: C.ModelRef,
             inputs: tuple[np.ndarray, np.ndarray | None, str], page: Any = None,
             plot: Any = None) -> int:
    """``armsim validate --model M.tflite``: every input bit-exact, or exit 1."""
    mr = C.model_run(args, ref)
    g, s, cpu, plan = mr.graph, mr.session, mr.cpu, mr.plan
    host, second = C.int8_reference(args, ref.path, g)
    xs, labels, what = inputs
    xq, xf, how = Q.quantized_inputs(g, host, xs)
    spec = V.RunSpec.of(s)
    jobs = args.jobs or V.default_jobs()
    with render.progress(not (args.json or args.quiet)) as bar:
        task = bar.add(f"{host.source} on {len(xq)} inputs", len(xq))
        host_q = host.predict_q(xf if g.float_edges[0] else xq,
                                progress=lambda k: bar.advance(task, k))
        second_q, second_error = None, ""
        try:
            second_q = None if second is None else second.predict_q(
                xf if g.float_edges[0] else xq)
        except ModelError as e:  # the second reference stops; the host ran
            second_error = str(e)
        run_ = emulate(spec, xq, jobs, getattr(args, "scheduler", None), bar,
                       render.note)
    allowed, why = host_steps(host, g)
    res = Q.validation(g, run_, host_q, labels, args.start, allowed)
    if why:
        res.note = why
    res.model, res.inputs, res.start, res.cpu = g.name, f"{what}; {how}", args.start, cpu.name
    res.mcu = s.mcu.name
    res.kernels, res.jobs, res.plan = s.build.kernels, jobs, plan.preset
    res.host_source = host.source
    if second_error:
        res.note = f"no second reference: {second_error}" + (f"; {why}" if why else "")
    if second_q is not None:
        d = Q.steps(run_.outputs.astype(g.output_dtype), second_q, Q.output_scale(g))
        res.note = (f"{second.source}: max |Δ| {d.max_q} step(s) ({d.max_real:.3g}); the "
                    "firmware's CMSIS-NN kernels requantize as TFLM does, the interpreter's "
                    "dense kernel in double precision") + (f"; {why}" if why else "")
        res.tflite_max_diff_q = d.max_q
    float_model = _float_model(args)
    if float_model is not None:
        res.quantization = Q.quantization_error(g, host_q, keras_host.predict(float_model, xf),
                                                labels)
    res.versions = versions(cpu, tflite=True, tflm=second is not None)
    if args.layers or not res.passed:
        picks = [i - args.start for i in res.differing_inputs[:3]] or [0]
        res.diagnosis = [{"input": f"input #{args.start + int(i)}",
                          **Q.op_diffs(s, host, g, xq[i], xf[i])} for i in picks]
        res.overruns = [o.to_json() for i in picks
                        for o in s.run(xq[i], check_bounds=True).overruns]
        res.passed = res.passed and not res.overruns
    C.validate_plot(plot, res)
    C.validate_page(page, res, s, f"armsim validate: {g.name} (int8) on {cpu.title}")
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
    else:
        render.validation_q(res)
        for d in res.diagnosis or []:
            render.diagnosis_q(d["input"], d)
        if present(res.overruns):
            render.overruns([res], True)
    return EXIT_OK if res.passed else EXIT_CHECK_FAILED
