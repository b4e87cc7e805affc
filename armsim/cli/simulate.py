"""``armsim simulate``: run a model (or a script's memory) in the emulator, compare with Keras."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from armsim.check.diagnose import REBUILT, REBUILT_NOTE, TFLITE_HOST, diagnose_inputs
from armsim.check.simulate import float_result
from armsim.cli import common as C
from armsim.cli import int8, tflm
from armsim.cli import options as O
from armsim.cli import script_setup as S
from armsim.errors import EXIT_CHECK_FAILED, EXIT_OK
from armsim.model import inputs
from armsim.model import keras_host as host
from armsim.ops import registry
from armsim.report import tables as render
from armsim.session.results import name_outputs, set_latency
from armsim.session.versions import versions


def add_parser(sub: Any) -> None:
    """Register the command."""
    s = sub.add_parser("simulate", help="run a model in the emulator and compare with Keras",
                       description="Run inputs through the model's firmware on the emulated "
                       "CPU and through Keras, and compare them output by output.")
    O.add_target(s)
    O.add_runtime(s)
    O.add_host(s)
    O.add_model(s)
    s.add_argument("--script", help="a uVision .ini script holding weights and input")
    O.add_script_options(s)
    s.add_argument("--filters", type=int, choices=range(1, 9), metavar="F",
                   help="with --script and no --model: conv filters of the seed layout "
                        "(default: inferred from the script)")
    O.add_inputs(s, "inputs of the model's input shape, one per row (.npy, or .npz with x "
                 "and optional y labels)")
    s.add_argument("--image", type=O.non_negative_int, action="append",
                   help="MNIST test image index (repeatable; 28x28x1 models)")
    O.add_data(s)
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    O.add_tolerances(s)
    O.add_elf_no_host(s)
    s.add_argument("--layers", action="store_true",
                   help="per-op diagnosis even when everything agrees")
    s.add_argument("--allow-outside-layout", action="store_true",
                   help="accept script writes to SRAM outside the plan's buffers")
    s.add_argument("--check-bounds", action="store_true",
                   help="check every store an op's kernel makes into the plan's memory lands "
                        "in that op's output or scratch buffer (slower; exit 1 on an overrun)")
    s.add_argument("--check-memory", action="store_true",
                   help="with --sources: report heap overruns, use after free, stores below the "
                        "stack limit and reads of RAM never written (slower; exit 1 on a "
                        "finding)")
    s.add_argument("--float-model", help="int8 models: the float32 .keras model it was "
                   "quantized from, to report the quantization error apart from the emulator's")
    O.add_clock(s)
    O.add_sources(s)
    O.add_limits(s)
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Simulate, compare, diagnose."""
    if args.runtime == "tflm":
        O.refuse_with_tflm(args, "script", "sources", "elf", "check_bounds", "check_memory",
                           "float_model")
        return tflm.simulate(args)
    O.refuse(bool(args.script) and bool(args.image or args.inputs),
             "--script carries its own input: --image/--inputs cannot be used with it")
    O.check_no_host(args)
    O.refuse(args.check_bounds and bool(args.script), "--check-bounds needs --model: a script's "
             "run is checked against its own plan by script check")
    O.refuse(args.check_memory and not args.sources, "--check-memory applies to your own "
             "code (--sources); for armsim's kernels use --check-bounds")
    O.refuse(args.check_memory and bool(args.script), "--check-memory runs with --image or "
             "--inputs (use `armsim run --check-memory --script` for a script's set-up)")
    O.refuse(args.check_bounds and bool(args.sources), "--check-bounds checks armsim's own "
             "per-op kernels; for your code use `armsim run --check-memory`")
    O.refuse(args.filters is not None and not args.script,
             "--filters only applies to a seed-layout --script")
    warnings: list[str] = []
    ref = C.load_model(args, default=not args.script)
    if ref is not None and ref.graph.quantized:
        return int8.simulate(args, ref)
    O.refuse(bool(args.float_model), "--float-model applies to int8 (.tflite) models")
    if args.script:
        st = S.script_setup(args, args.no_host, show_warnings=False)
        g, plan, s, keras, cpu = st.graph, st.plan, st.session, st.host, st.cpu
        warnings += st.warnings
        cases = [inputs.Case(Path(args.script).name, None, st.x)]
        results = [s.resume()]
        memory = st.memory
        prep = "the input the script wrote"
        host_source = REBUILT if st.host_rebuilt else ("none" if keras is None else "model")
        if plan.preset == "seed" and float(st.x.max()) > 1.0 + 1e-6:
            warnings.append(f"input values reach {float(st.x.max()):g}: the seed model expects "
                            "pixels scaled (v - 127.5) / 127.5, in -1..1 (raw 0..255 pixels?)")
    else:
        mr = C.model_run(args, ref)
        g, keras, cpu, plan, s, memory = mr.graph, mr.keras, mr.cpu, mr.plan, mr.session, \
            mr.memory
        cases, prep = C.cases(args, g)
        results = [s.run(c.x, check_bounds=args.check_bounds, check_memory=args.check_memory)
                   for c in cases]
        host_source = "model" if host.is_keras(keras) else TFLITE_HOST
    host_out = host.predict(keras, inputs.stack([c.x for c in cases])) \
        if keras is not None else None
    classifier = registry.is_classifier(g)
    rows = []
    for i, (c, r) in enumerate(zip(cases, results)):
        row = float_result(c, r, cpu.name, host_out[i] if host_out is not None else None,
                           host_source, classifier, args.tolerance, args.rtol)
        if host_source == REBUILT:
            row.note = REBUILT_NOTE
        if warnings:
            row.warnings = warnings
        row.versions = versions(cpu)
        name_outputs(row, g)
        set_latency(row, r.cycles_estimate, s.fetch, s.mcu.name)
        if args.check_bounds:
            row.overruns = [o.to_json() for o in r.overruns]
        if args.check_memory:
            row.memory_findings = [f.to_json() for f in r.memory_findings]
        rows.append(row)
    overrun = any(r.overruns or r.memory_findings for r in rows)
    mismatch = any(r.agree is False for r in rows)
    diagnosis = None
    if keras is not None and not host.is_keras(keras) and (mismatch or args.layers):
        warnings.append("no per-layer diagnosis for a float32 .tflite yet (the TFLite "
                        "interpreter is the host): run the .keras model for one")
    elif keras is not None and (mismatch or args.layers):
        picks = [(c.name, c.x, host_out[i]) for i, (c, r) in enumerate(zip(cases, rows))
                 if args.layers or r.agree is False][:3]
        diagnosis = diagnose_inputs(s, keras, memory, picks, args.tolerance,
                                    rebuilt=host_source == REBUILT)
        for r in rows:
            r.diagnosis = next((d for d in diagnosis if d["input"] == r.name), None)
    if args.json:
        out = [r.to_json() for r in rows]
        print(json.dumps(out[0] if len(out) == 1 else out, indent=2))
    else:
        render.simulate_table(rows, g.name, cpu.title, plan.preset, prep, args.tolerance,
                              args.rtol, "the host Keras model" if host_source == "model"
                              else host_source)
        if host_source == REBUILT:
            render.note(REBUILT_NOTE)
        for w in warnings:
            render.note(f"warning: {w}")
        if diagnosis:
            render.diagnosis(diagnosis)
        render.overruns(rows, args.check_bounds)
        if args.check_memory:
            for r, res in zip(rows, results):
                for f in res.memory_findings:
                    render.note(f"{r.name}: memory check: {f.message()}")
            if not any(r.memory_findings for r in rows):
                render.note("memory check: no finding")
    return EXIT_CHECK_FAILED if mismatch or overrun else EXIT_OK


