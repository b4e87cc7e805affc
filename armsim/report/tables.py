"""Terminal rendering of command results (rich tables), kept apart from the library.

Cells are escaped (disassembly such as ``[r3, #-0x64]`` is not markup) and tables are not
cut at 80 columns when the output is piped.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from armsim.ops import registry
from armsim.session.results import ABSENT, SimulateResult, ValidateResult, present
from armsim.timing.accuracy import error_words, json_words


def console(stderr: bool = False) -> Console:
    """A console that is wide when not on a terminal, so tables are never cut."""
    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    return Console(file=stream, highlight=False, width=None if tty else 200,
                   soft_wrap=not tty)


def table(title: str, columns: list[str], right: set[str] | None = None) -> Table:
    """A table with escaped title and the given columns (names in ``right`` right-aligned)."""
    t = Table(title=escape(title))
    for c in columns:
        t.add_column(escape(c), justify="right" if right and c in right else "left")
    return t


def row(t: Table, *cells: Any, style: str | None = None) -> None:
    """Add a row of escaped cells."""
    t.add_row(*[escape(str(c)) for c in cells], style=style)


def note(text: str) -> None:
    """A line for the user on stderr (kept out of JSON on stdout)."""
    console(stderr=True).print(f"armsim: {escape(text)}")


class _Bar:
    def __init__(self, progress: Any) -> None:
        self.p = progress

    def add(self, what: str, total: int | None) -> Any:
        return self.p.add_task(what, total=total) if self.p else None

    def advance(self, task: Any, k: int) -> None:
        if self.p:
            self.p.advance(task, k)

    def describe(self, task: Any, what: str) -> None:
        if self.p:
            self.p.update(task, description=what)


@contextlib.contextmanager
def progress(enabled: bool) -> Iterator[_Bar]:
    """Progress bars on stderr (nothing when disabled or not on a terminal)."""
    if not enabled or not sys.stderr.isatty():
        yield _Bar(None)
        return

    with Progress(console=console(stderr=True), transient=True) as p:
        yield _Bar(p)


# -- simulate ---------------------------------------------------------------------------------
def _class(v: Any) -> str:
    return "-" if v is None or not present(v) else str(v)


def _correct(r: SimulateResult) -> str:
    return "-" if not present(r.correct) else ("yes" if r.correct else "no")


def simulate_table(rows: list[SimulateResult], model: str, cpu: str, plan: str, prep: str,
                   atol: float, rtol: float, host: str = "the host Keras model") -> None:
    """One row per input: label, classes, max |Δ|, instructions, agreement."""
    t = table(f"armsim simulate: {model} (plan {plan}) on {cpu} (Unicorn); inputs: {prep}",
              ["input", "label", "emulator", "host", "correct", "max |Δ|", "instructions",
               "est. ms", "agrees"], {"label", "emulator", "host", "max |Δ|", "instructions",
                                      "est. ms"})
    for r in rows:
        hp = r.host.predicted if present(r.host) else None
        t.add_row(escape(r.name), str(r.label) if present(r.label) else "", _class(r.predicted),
                  _class(hp), _correct(r),
                  f"{r.max_abs_diff:.2e}" if present(r.max_abs_diff) else "-",
                  f"{r.instructions:,}", ms_cell(r),
                  "-" if not present(r.agree) else ("[green]yes[/]" if r.agree else "[red]NO[/]"))
    con = console()
    con.print(t)
    latency_note(rows)
    judged = [r for r in rows if present(r.agree)]
    if judged:
        bad = sum(1 for r in judged if not r.agree)
        con.print(f"{len(judged) - bad}/{len(judged)} agree with {host} "
                  f"(same class where there is one, every output within {atol:g} + "
                  f"{rtol:g} x |host|).", markup=False)


def diagnosis(reports: list[dict[str, Any]]) -> None:
    """Per-op differences, the first diverging op and the layout findings."""
    con = console()
    for r in reports:
        if r.get("note"):
            con.print(f"diagnosis of {r['input']}: {r['note']}", markup=False)
            for f in r["findings"]:
                con.print(f"finding: {f}", markup=False)
            continue
        t = table(f"per-op diagnosis, {r['input']}: emulator class {r['emulator_class']}, "
                  f"host class {r['host_class']}", ["op", "host", "max |Δ|", "relative"],
                  {"max |Δ|", "relative"})
        for d in r["ops"]:
            row(t, d["op"], d["host"], f"{d['max_abs_diff']:.3g}", f"{d['relative']:.3g}")
        con.print(t)
        con.print("first diverging op: " + (r["first_divergence"] or "none (all ops within "
                  "1e-4 of their scale)"), markup=False)
        for f in r["findings"]:
            con.print(f"finding: {f}", markup=False)


def simulate_table_q(rows: list[SimulateResult], model: str, cpu: str, prep: str) -> None:
    """int8: one row per input, the difference in int8 steps and the quantization error."""
    quant = any(present(r.quantization) for r in rows)
    cols = ["input", "label", "emulator", "host", "correct", "max |Δ| (steps)", "instructions",
            "est. ms", "bit-exact"] + (["vs float: max |Δ|"] if quant else [])
    t = table(f"armsim simulate: {model} (int8, CMSIS-NN) on {cpu} (Unicorn); inputs: {prep}",
              cols, {"label", "emulator", "host", "max |Δ| (steps)", "instructions",
                     "est. ms", "vs float: max |Δ|"})
    for r in rows:
        cells = [escape(r.name), str(r.label) if present(r.label) else "",
                 _class(r.predicted), _class(r.host.predicted), _correct(r),
                 f"{r.max_abs_diff_q} ({r.max_abs_diff:.3g})", f"{r.instructions:,}",
                 ms_cell(r),
                 "[green]yes[/]" if r.agree else "[red]NO[/]"]
        if quant:
            cells.append(f"{r.quantization['max_abs']:.3g}" if present(r.quantization)
                         else "-")
        t.add_row(*cells)
    con = console()
    con.print(t)
    latency_note(rows)
    bad = sum(1 for r in rows if not r.agree)
    loose = next((r.note for r in rows if present(r.note) and "one step" in r.note), None)
    ref = next((r.host.source for r in rows if present(r.host)), "the host")
    if loose:
        con.print(f"{len(rows) - bad}/{len(rows)} within one step of the {ref}: "
                  f"{loose}.", markup=False)
    else:
        con.print(f"{len(rows) - bad}/{len(rows)} bit-exact with the {ref} (integer "
                  "outputs equal element for element).", markup=False)
    failed = [r for r in rows if present(r.tflite) and "failed" in r.tflite]
    if failed:
        con.print(f"second reference: {len(failed)} input(s) stop the "
                  f"{failed[0].tflite['source']} ({failed[0].tflite['failed']}); the host's "
                  "comparison above stands for them", markup=False)
    if quant:
        con.print("vs float: the int8 model's (interpreter's) dequantized outputs against the "
                  "float model's: quantization error, not emulator error.", markup=False)


def diagnosis_q(name: str, d: dict[str, Any]) -> None:
    """int8 per-op diffs against the interpreter and the first diverging op."""
    con = console()
    t = table(f"per-op integer diagnosis, {name}", ["op", "TFLite op", "max |Δ| (steps)",
                                                 "max |Δ| (real)", "elements differing"],
              {"max |Δ| (steps)", "max |Δ| (real)", "elements differing"})
    for o in d["ops"]:
        row(t, o["op"], o["tflite"], str(o["max_abs_diff_q"]), f"{o['max_abs_diff']:.3g}",
            str(o["elements_differing"]), style="red" if o["max_abs_diff_q"] else None)
    con.print(t)
    con.print("first diverging op: " + (d["first_divergence"] or "none (every op bit-exact)"),
              markup=False)


def overruns(rows: list[Any], checked: bool) -> None:
    """The stores --check-bounds found outside each op's buffers (or that there were none),
    from simulate's or validate's results."""
    if not checked:
        return
    con = console()
    found = [o for r in rows for o in (r.overruns or [])]
    if not found:
        con.print("bounds: every store of every op's kernel landed in that op's output or "
                  "scratch buffer.", markup=False)
        return
    for o in found:
        side = f"{o['beyond']} byte(s) past the end of" if o["beyond"] > 0 else \
            f"{-o['beyond']} byte(s) before the start of"
        into = f"into {o['buffer']}" if o["buffer"] else "between buffers"
        con.print(f"finding: op {o['op']}: {o['function']} at PC {o['pc']} wrote {o['size']} "
                  f"byte(s) at {o['address']}, {side} its output, {into}", style="red",
                  markup=False)


def validation_q(res: ValidateResult) -> None:
    """int8 validation: bit-exactness, accuracies, quantization error, the verdict."""
    con = console()
    kind = {"int16": "16x8", "int32": "int8/int16"}.get(str(res.dtype), "int8")
    t = table(f"armsim validate: {res.n} inputs ({res.inputs}), {kind} model {res.model} "
              f"on {res.cpu} ({res.jobs} process(es))", ["metric", "value"], {"value"})
    rows = [("bit-exact inputs", f"{res.bit_exact_inputs} / {res.n}"),
            (f"max |emulator - interpreter| ({res.dtype} steps)", str(res.max_abs_diff_q)),
            ("elements differing", str(res.elements_differing))]
    if present(res.agreement):
        rows.append(("argmax agreement", f"{res.agreement:.4%}"))
    if present(res.host_accuracy):
        rows += [("interpreter accuracy", f"{res.host_accuracy:.4f}"),
                 ("emulator accuracy", f"{res.emulator_accuracy:.4f}")]
    q = res.quantization
    if q:
        rows += [("int8 vs float: max |Δ| / cos", f"{q['max_abs']:.3g} / {q['cos']:.6f}")]
        if "agreement" in q:
            rows.append(("int8 vs float: argmax agreement", f"{q['agreement']:.4%}"))
        if "float_accuracy" in q:
            rows.append(("float model accuracy", f"{q['float_accuracy']:.4f}"))
    ins = res.instructions
    rows += [("instructions per input min / median / max",
              f"{ins['min']:,} / {ins['median']:,.0f} / {ins['max']:,}"),
             *latency_rows(res),
             ("emulation", f"{res.seconds:.1f} s ({res.inputs_per_second} inputs/s)")]
    for k, v in rows:
        row(t, k, v)
    con.print(t)
    if present(res.latency_ms):
        con.print(latency_line(res, res.latency_ms["mean"], "per inference on average"),
                  markup=False)
    ref = res.host_source if present(res.host_source) else "the host"
    if res.passed and present(res.note) and "allows one step" in str(res.note):
        con.print(f"PASS: all {res.n} inputs within one step of the {ref} "
                  f"({res.bit_exact_inputs} bit-exact): {res.note}.", style="green",
                  markup=False)
    elif res.passed:
        con.print(f"PASS: all {res.n} inputs bit-exact with the {ref}.",
                  style="green", markup=False)
    else:
        con.print(f"FAIL: {res.n - res.bit_exact_inputs} inputs differ (first: "
                  f"{res.differing_inputs[:5]}).", style="red", markup=False)


# -- validate ---------------------------------------------------------------------------------
def latency_rows(res: ValidateResult) -> list[tuple[str, str]]:
    """validate's estimated cycles and latency per input (min / median / max; mean, max)."""
    if not present(res.latency_ms) or res.latency_ms["mean"] is None:
        return []
    c, ms = res.cycles_estimate, res.latency_ms
    return [("est. cycles per input min / median / max",
             f"{c['min']:,.0f} / {c['median']:,.0f} / {c['max']:,.0f}"),
            (f"est. latency at {res.clock_mhz:g} MHz, mean / max",
             f"{ms['mean']:,.3f} / {ms['max']:,.3f} ms")]


def validation(res: ValidateResult) -> None:
    """The metrics table, confusion matrices and reports, and the verdict."""
    con = console()
    t = table(f"armsim validate: {res.n} inputs ({res.inputs}), model {res.model} on "
              f"{res.cpu} ({res.jobs} process(es))", ["metric", "value"], {"value"})
    rows = []
    if present(res.host_accuracy):
        rows += [("host accuracy", f"{res.host_accuracy:.4f}"),
                 ("emulator accuracy", f"{res.emulator_accuracy:.4f}")]
    if present(res.agreement):
        rows.append(("argmax agreement", f"{res.agreement:.4%}"))
    ins = res.instructions
    rows += [
        ("max |emulator - host|", f"{res.max_abs_diff:.3e}"),
        ("RMSE", f"{res.rmse:.3e}"), ("MAE", f"{res.mae:.3e}"),
        ("relative L2 error", f"{res.l2r:.3e}"), ("cosine similarity", f"{res.cos:.9f}"),
        ("mean / std of error", f"{res.mean_error:.2e} / {res.std_error:.2e}"),
        ("instructions per input min / median / max",
         f"{ins['min']:,} / {ins['median']:,.0f} / {ins['max']:,}"),
        ("instructions, total", f"{ins['total']:,}"),
        *latency_rows(res),
        ("emulation wall time", f"{res.seconds:.2f} s ({res.inputs_per_second:,.0f} "
                                "inputs/s)"),
    ]
    for k, v in rows:
        row(t, k, v)
    con.print(t)
    if present(res.latency_ms):
        con.print(latency_line(res, res.latency_ms["mean"], "per inference on average"),
                  markup=False)
    if present(res.confusion_matrix):
        with np.printoptions(linewidth=160):
            for side in ("host", "emulator"):
                con.print(f"\nConfusion matrix, {side} (rows: true class, columns: predicted)")
                con.print(str(np.array(res.confusion_matrix[side])), markup=False)
                con.print(f"\nClassification report, {side}")
                con.print(res.classification_report[side], markup=False)
    for key in ("note", "warning"):
        if getattr(res, key):
            con.print(f"{key}: {getattr(res, key)}", markup=False)
    if res.plot:
        con.print(f"wrote {res.plot}", markup=False)
    what = ("every input agrees and every output is within tolerance" if res.task ==
            "classification" else "every output is within tolerance")
    if res.passed:
        con.print(f"[green]PASS[/]: {what} ({res.tolerance:g} + {res.rtol:g} x |host|)")
    else:
        agree = f"agreement {res.agreement:.4%}, " if present(res.agreement) else ""
        con.print(f"[red]FAIL[/]: {agree}max |Δ| {res.max_abs_diff:.3e} (tolerance "
                  f"{res.tolerance:g} + {res.rtol:g} x |host|)")


# -- profile ----------------------------------------------------------------------------------
def profile(prof: Any, cmp: Any, label: str) -> None:
    """Per-op and per-function tables, footprint, hot spots, host agreement."""
    con = console()
    ot = table(f"armsim profile: {prof.model} on {prof.cpu_title}, {prof.kernels} kernels, "
               f"{label} (cycles: estimates, {prof.cycle_model})",
               ["op", "layer", "kind", "MACs", "instructions", "%", "est. cycles", "instr/MAC",
                "cycles/MAC"], {"MACs", "instructions", "%", "est. cycles", "instr/MAC",
                                "cycles/MAC"})
    total = max(prof.total_instructions, 1)

    def pct(n: int) -> str:
        return f"{100 * n / total:.1f}"

    row(ot, "(startup)", "", "", "", f"{prof.startup['instructions']:,}",
        pct(prof.startup["instructions"]), f"{prof.startup['cycles_estimate']:,.0f}", "", "")
    for r in prof.ops:
        if registry.get(r.op).alias:  # no code of its own
            continue
        row(ot, r.name, r.layer, r.op, f"{r.macs:,}", f"{r.instructions:,}", pct(r.instructions),
            f"{r.cycles_estimate:,.0f}",
            "-" if r.instructions_per_mac is None else f"{r.instructions_per_mac:.2f}",
            "-" if r.cycles_per_mac is None else f"{r.cycles_per_mac:.2f}")
    row(ot, "(finish)", "", "", "", f"{prof.finish['instructions']:,}",
        pct(prof.finish["instructions"]), f"{prof.finish['cycles_estimate']:,.0f}", "", "")
    row(ot, "total", "", "", f"{prof.macs:,}", f"{prof.total_instructions:,}", "100.0",
        f"{prof.total_cycles_estimate:,.0f}",
        f"{prof.total_instructions / prof.macs:.2f}" if prof.macs else "-", "", style="bold")
    con.print(ot)
    folded = [r for r in prof.layers if r.note]
    if folded:
        con.print("layers without ops of their own: " + "; ".join(
            f"{r.name} ({r.note})" for r in folded), markup=False)
    ft = table("per function", ["function", "op", "calls", "instructions", "%", "est. cycles"],
               {"calls", "instructions", "%", "est. cycles"})
    for r in prof.functions:
        # calls count entries: a function entered in an earlier op and returned to here
        # shows no calls in this op
        row(ft, r.name, r.layer, f"{r.calls:,}" if r.calls else "", f"{r.instructions:,}",
            pct(r.instructions),
            f"{r.cycles_estimate:,.0f}")
    con.print(ft)
    fp = prof.footprint
    con.print("weights: " + ("in flash (.rodata), as deployed" if fp["weights_in"] == "flash"
                             else "in SRAM, written by a script (the seed workflow; "
                                  "--weights-in flash for the deployed footprint)"),
              markup=False)
    con.print(f"flash: {fp['flash']['total']:,} B (text {fp['flash']['text']:,}, rodata "
              f"{fp['flash']['rodata']:,} incl. weights {fp['flash']['weights_in_rodata']:,}, "
              f"data {fp['flash']['data']:,}) of {fp['mcu_flash']:,}", markup=False)
    ram = fp["ram"]
    con.print(f"RAM: {ram['total']:,} B (inputs and weights {ram['inputs_and_weights']:,}, "
              f"activation arena {ram['arena']:,}, data {ram['data']:,}, bss {ram['bss']:,}, "
              f"peak stack {ram['stack_peak']:,}) of {fp['mcu_sram']:,} on {fp['mcu']}: "
              + ("fits" if fp["fits"] else "DOES NOT FIT: " + "; ".join(fp["fit_problems"])),
              markup=False)
    if prof.data_memory is not None:
        con.print(data_memory(prof.data_memory), markup=False)
    con.print(latency_line(prof), markup=False)
    if prof.hotspots:
        ht = table("hot spots (blocks by instructions)",
                   ["address", "function", "source", "instructions", "%", "disassembly"],
                   {"instructions", "%"})
        for h in prof.hotspots:
            row(ht, h.address, h.function, h.source, f"{h.instructions:,}", f"{h.percent:.1f}",
                "; ".join(x.split(": ", 1)[1] for x in h.disassembly[:3] if ": " in x))
        con.print(ht)
    if cmp is not None:
        con.print(f"host agreement: {'yes' if cmp.agree else 'NO'} (max |Δ| "
                  f"{cmp.max_abs_diff:.2e})", markup=False)


def latency_line(res: Any, ms: float | None = None, what: str = "per inference") -> str:
    """"latency: about N ms per inference at F MHz (flash set-up)", said to be an estimate,
    for any result with ``latency_ms``, ``clock_mhz``, ``wait_states`` and ``flash_accel``
    (``ms``: another figure of it, such as validate's mean)."""
    ms = res.latency_ms if ms is None else ms
    if ms is None or not present(ms):
        return "latency: no clock given (--clock-mhz)"
    ws = res.wait_states
    setup = f"{ws} flash wait state{'s' if ws != 1 else ''}" + (
        f", {res.flash_accel}" if res.flash_accel else "")
    return (f"latency: about {ms:,.3f} ms {what} at {res.clock_mhz:g} MHz "
            f"({setup}): " + (json_words(res.estimate_error_pct)
                              if present(getattr(res, "estimate_error_pct", ABSENT))
                              else error_words(res.cpu)))


def ms_cell(r: Any) -> str:
    """A result's "est. ms" cell."""
    return f"{r.latency_ms:,.3f}" if present(r.latency_ms) and r.latency_ms is not None \
        else "-"


def latency_note(rows: list[Any]) -> None:
    """The latency line under a table of runs (their figures in its "est. ms" column)."""
    timed = [r for r in rows if present(r.latency_ms)]
    if timed:
        first = timed[0]
        line = latency_line(first) if len(timed) == 1 else latency_line(
            first, max(r.latency_ms for r in timed), "per inference at most")
        console().print(line, markup=False)


def profile_compare(results: list[tuple[Any, Any]], label: str) -> None:
    """Every CPU variant in one table."""
    first = results[0][0]
    t = table(f"armsim profile --compare-cpus: {first.model}, {label} (cycles and ms are "
              f"estimates; ms at {first.clock_mhz:g} MHz)" if first.clock_mhz else
              f"armsim profile --compare-cpus: {first.model}, {label} (cycles are estimates)",
              ["cpu", "instructions", "est. cycles", "est. ms", "instr/MAC", "flash B",
               "stack B", "agrees"],
              {"instructions", "est. cycles", "est. ms", "instr/MAC", "flash B", "stack B"})
    for prof, cmp in results:
        agree = "-" if cmp is None else ("yes" if cmp.agree else f"NO ({cmp.max_abs_diff:.1e})")
        row(t, prof.cpu_title, f"{prof.total_instructions:,}",
            f"{prof.total_cycles_estimate:,.0f}",
            "-" if prof.latency_ms is None else f"{prof.latency_ms:,.3f}",
            f"{prof.total_instructions / prof.macs:.2f}" if prof.macs else "-",
            f"{prof.footprint['flash']['total']:,}", f"{prof.footprint['ram']['stack_peak']:,}",
            agree)
    con = console()
    con.print(t)
    con.print(f"flash timing: {first.flash}; the cycle model's measured error per core is in "
              "docs/cycle-model.md", markup=False)


# -- plan, scripts, regress -------------------------------------------------------------------
def profile_dtypes(pf: Any, pq: Any, label: str, made: str, exact: bool) -> None:
    """float32 and int8 of one model: per-op and total instructions, cycles, flash, RAM."""
    t = table(f"armsim profile --compare-dtypes: {pf.model} on {pf.cpu_title}, input {label} "
              f"(int8 {made})", ["dtype", "op", "kind", "MACs", "instructions",
                                 "est. cycles", "flash (weights)", "RAM (out+scratch)"],
              {"MACs", "instructions", "est. cycles", "flash (weights)", "RAM (out+scratch)"})
    for dtype, p in (("float32", pf), ("int8", pq)):
        for r in p.ops:
            if not r.instructions and not r.weights_bytes:
                continue
            row(t, dtype, r.name, r.op, f"{r.macs:,}", f"{r.instructions:,}",
                f"{r.cycles_estimate:,.0f}", f"{r.weights_bytes:,}", f"{r.ram_bytes:,}")
        fl, ram = p.footprint["flash"], p.footprint["ram"]
        row(t, dtype, "total", f"{p.kernels}", f"{p.macs:,}", f"{p.total_instructions:,}",
            f"{p.total_cycles_estimate:,.0f}", f"{fl['total']:,} (flash image)",
            f"{ram['total']:,} (RAM)", style="bold")
    con = console()
    con.print(t)
    for dtype, p in (("float32", pf), ("int8", pq)):
        con.print(f"{dtype} {latency_line(p)}", markup=False)
    ratio = pf.total_cycles_estimate / max(pq.total_cycles_estimate, 1)
    con.print(f"int8 / float32: {pq.total_instructions / max(pf.total_instructions, 1):.2f}x "
              f"the instructions, {1 / ratio:.2f}x the estimated cycles; int8 outputs "
              + ("bit-exact with the TFLite interpreter." if exact else
                 "DIFFER from the TFLite interpreter."), markup=False)


def plan_table(plan: Any, mcu: Any) -> None:
    """Every buffer of a plan."""
    t = table(f"memory plan of {plan.graph.name} (preset {plan.preset}, weights in "
              f"{plan.weights_in}, {registry.macs(plan.graph):,} MACs)",
              ["buffer", "region", "address", "bytes", "shape", "order", "producer", "lifetime"],
              {"bytes"})
    for b in plan.buffers:
        addr = b.symbol if b.address is None else f"0x{b.address:08X}"
        life = "" if b.lifetime is None else f"ops {b.lifetime[0]}-{b.lifetime[1]}"
        row(t, b.name, b.region, addr, f"{b.nbytes:,}", "x".join(map(str, b.shape)), b.order,
            b.producer or "", life)
    con = console()
    con.print(t)
    con.print(f"SRAM: {plan.sram_bytes():,} bytes from 0x{plan.base:08X} (arena "
              f"{plan.arena[1]:,} at 0x{plan.arena[0]:08X}); weights in flash "
              f"{plan.flash_weight_bytes():,} bytes; MCU {mcu.name}: SRAM {mcu.sram_size:,}, "
              f"flash {mcu.flash_size:,}", markup=False)


def script_checks(reports: list[dict[str, Any]]) -> None:
    """Per script: the buffer table, notes, warnings and errors."""
    con = console()
    for r in reports:
        if r["buffers"]:
            what = (f"seed layout F={r['filters']}" if r["plan"] == "seed"
                    else f"plan of {r['model']}")
            t = table(f"{r['file']}: {r['lines']} lines, {r['writes']} writes, {what}",
                      ["buffer", "range", "written", "coverage", "min", "max"],
                      {"written", "coverage", "min", "max"})
            for b in r["buffers"]:
                row(t, b["buffer"], f"{b['start']}-{b['end']}", f"{b['written']}/{b['needed']}",
                    f"{100 * b['coverage']:.0f}%",
                    "-" if b["min"] is None else f"{b['min']:.6g}",
                    "-" if b["max"] is None else f"{b['max']:.6g}")
            con.print(t)
        for n in r["notes"]:
            con.print(f"note: {n}", markup=False)
        for w in r["warnings"]:
            con.print(f"warning: {w}", markup=False, style="yellow")
        for e in r["errors"]:
            print(f"armsim: error: {e}", file=sys.stderr)
        if not r["errors"]:
            con.print(f"{r['file']}: " + ("ok" if not r["warnings"] else
                                          f"ok with {len(r['warnings'])} warning(s)"),
                      markup=False)


def regress_changes(changes: list[tuple[str, str, int | None, int | None]], path: Path,
                    base_tool: str | None, now_tool: str | None) -> None:
    """What changed against the baseline."""
    t = table(f"instruction counts changed against {path}",
              ["variant", "function", "baseline", "now", "change"], {"baseline", "now", "change"})
    for v, fn, b, n in changes:
        delta = "" if b is None or n is None else f"{n - b:+,}"
        row(t, v, fn, "-" if b is None else f"{b:,}", "-" if n is None else f"{n:,}", delta)
    console().print(t)
    if base_tool != now_tool:
        print(f"note: toolchain differs: baseline '{base_tool}', now '{now_tool}'")
    print("if the change is intended: armsim regress --update")


# -- run --------------------------------------------------------------------------------------
def image_run(res: Any, functions: int) -> None:
    """How an image's run stopped, its cost per function, reads, notes and findings."""
    c = console()
    status = "" if res.exit_status is None else f", exit status {res.exit_status}"
    c.print(escape(f"{res.elf.name} on {res.cpu.title}, MCU {res.mcu.name}; start: "
                   f"{res.start}"))
    c.print(escape(f"stopped: {res.stop.reason} at 0x{res.stop.pc:08X} {res.stop.where}: "
                   f"{res.stop.detail}{status}"))
    stack = "not measured" if res.peak_stack is None else f"{res.peak_stack:,} bytes"
    c.print(escape(f"{res.instructions:,} instructions (exact), {res.cycles_estimate:,.0f} "
                   f"cycles (estimate), peak stack {stack}"))
    w = res.window
    if w is not None:
        c.print(escape(f"between {w.start_name} and {w.end_name}: {w.instructions:,} "
                       f"instructions (exact), {w.cycles_estimate:,.0f} cycles (estimate)"
                       + (f", {w.data_memory['loads']:,} loads in AXI SRAM"
                          if w.data_memory and "loads" in w.data_memory else "")))
        if w.data_memory:
            c.print(escape(f"  between them, {data_memory(w.data_memory)}"))
    if functions and res.functions:
        t = table("cost per function", ["function", "calls", "instructions", "%", "cycles (est.)"],
                  {"calls", "instructions", "%", "cycles (est.)"})
        for f in res.functions[:functions]:
            row(t, f.name, f.calls, f"{f.instructions:,}",
                f"{100 * f.instructions / max(res.instructions, 1):.1f}",
                f"{f.cycles_estimate:,.0f}")
        c.print(t)
    for label, (spec, vals) in res.reads.items():
        t = table(f"--read {label} ({spec.count} x {spec.type} at 0x{spec.address:08X})",
                  ["index", "value"], {"index", "value"})
        for i, v in enumerate(vals):
            row(t, i, f"{float(v):.9g}" if spec.type == "f32" else int(v))
        c.print(t)
    for n in res.notes:
        note(n)
    for f in res.findings:
        note(f"memory check: {f.message()}")
    if res.findings:
        note(f"memory check: {len(res.findings)} finding(s)")


def data_memory(d: dict[str, Any]) -> str:
    """One line on an M7 run's run-time address facts (datamem.summary)."""
    parts = []
    if "loads" in d:
        names = "+".join(a.split()[0] for a in d["areas"])
        parts.append(f"{d['loads']:,} loads and {d['stores']:,} stores in {names}, "
                     f"+{d['cycles']:,.0f} cycles")
    parts.append(f"{d['unaligned_loads']:,} unaligned loads and {d['odd_multi_stores']:,} "
                 f"even-count STM/PUSH off 8-byte alignment, +{d['alignment_cycles']:,.0f} "
                 "cycles")
    return f"data memory: {'; '.join(parts)} ({d['note']})"
