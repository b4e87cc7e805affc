"""Terminal views of ``--runtime tflm``: the simulate table, the validation summary, the
per-operator profile with the arena, and the runtime comparison (rich tables on stdout)."""

from __future__ import annotations

from typing import Any

from armsim.report.tables import (console, latency_line, latency_note, latency_rows,
                                  ms_cell, row, table)
from armsim.session.results import SimulateResult, ValidateResult, present


def _cls(v: Any) -> str:
    return "-" if v is None or not present(v) else str(v)


def arena_line(s: Any) -> str:
    """The arena in one line: its size, how it was found, TFLM's breakdown."""
    a = s.arena
    b = a.breakdown
    how = (f"the smallest with which AllocateTensors and Invoke succeed, {len(a.tried)} "
           "sizes tried" if a.smallest == a.bytes else
           f"--arena; the smallest that works is {a.smallest:,}")
    parts = [f"arena {a.bytes:,} B ({how}; arena_used_bytes() {a.used:,})"]
    if b:
        parts.append(f"recording allocator: persistent {b['persistent']:,}, non-persistent "
                     f"{b['non_persistent']:,}, eval tensors "
                     f"{b['tflite_eval_tensor_data']['used']:,}, persistent buffers "
                     f"{b['persistent_buffer_data']['used']:,} "
                     f"({b['persistent_buffer_data']['count']} kernel buffers), variables "
                     f"{b['tflite_tensor_variable_buffer_data']['used']:,}")
    return "; ".join(parts)


def simulate_table(rows: list[SimulateResult], fm: Any, s: Any, prep: str) -> None:
    """One row per input: classes, the difference in steps (integer outputs) or real units,
    the instructions of Invoke, and the TFLite interpreter's difference beside it."""
    integer = any(present(r.max_abs_diff_q) for r in rows)
    t = table(f"armsim simulate --runtime tflm: {fm.path.name} on {s.cpu.title} (TFLM, "
              f"{s.kernels} kernels); inputs: {prep}",
              ["input", "label", "emulator", "host", "max |Δ|" + (" (steps)" if integer else ""),
               "TFLite interp.", "instructions", "est. ms", "agree"],
              {"label", "emulator", "host", "max |Δ| (steps)", "max |Δ|", "instructions",
               "est. ms"})
    for r in rows:
        if present(r.max_abs_diff_q):
            diff = f"{r.max_abs_diff_q} ({r.max_abs_diff:.3g})"
        elif present(r.max_abs_diff):
            diff = f"{r.max_abs_diff:.3g}"
        else:
            diff = "-"
        second = "-"
        if present(r.tflite):
            if "refused" in r.tflite:
                second = "refuses the model"
            elif "failed" in r.tflite:
                second = "fails"
            elif present(r.tflite_max_diff_q):
                second = f"{r.tflite_max_diff_q} step(s)"
            else:
                second = f"{r.tflite['max_abs_diff']:.3g}"
        row(t, r.name, _cls(r.label), _cls(r.predicted),
            _cls(r.host.predicted if present(r.host) else None), diff, second,
            f"{r.instructions:,}", ms_cell(r),
            "-" if not present(r.agree) else ("yes" if r.agree else "NO"))
    con = console()
    con.print(t)
    latency_note(rows)
    host = rows[0].host_source if rows and present(rows[0].host_source) else "none"
    con.print(f"host: {host}; {arena_line(s)}", markup=False)
    for r in rows:
        if present(r.tflite) and "refused" in r.tflite:
            con.print(f"the TFLite interpreter refuses this model (TFLM runs it): "
                      f"{r.tflite['refused']}", markup=False)
            break
    for r in rows:
        if present(r.tflite) and "failed" in r.tflite:
            con.print(f"{r.name}: no second reference ({r.tflite['failed']}); the host's "
                      "comparison above stands", markup=False)
    for r in rows:
        if present(r.diagnosis) and r.diagnosis:
            diagnosis(r.name, r.diagnosis)


def diagnosis(name: str, d: dict[str, Any]) -> None:
    """The per-operator comparison of one input, and the first operator that differs."""
    t = table(f"per operator: {name} (emulated arena against the host, every operator's "
              "output)", ["#", "op", "output", "dtype", "max |Δ|", "agree"], {"#", "max |Δ|"})
    for r in d["ops"]:
        diff = f"{r['max_abs_diff_q']} steps ({r['max_abs_diff']:.3g})" \
            if "max_abs_diff_q" in r else f"{r['max_abs_diff']:.3g}"
        row(t, r["op"], r["op_type"], r["tensor"], r["dtype"], diff,
            "yes" if r["agree"] else "NO")
    con = console()
    con.print(t)
    f = d.get("first_differing")
    if f:
        steps = f" = {f['max_abs_diff_q']} step(s)" if "max_abs_diff_q" in f else ""
        con.print(f"first operator that differs: #{f['op']} {f['op_type']} ({f['tensor']}), "
                  f"{f['kernels']} kernels: max |Δ| {f['max_abs_diff']:.3g}{steps}",
                  markup=False)
    elif d["compared"]:
        con.print(f"every operator's output agrees ({d['compared']} compared)", markup=False)


def validation(res: ValidateResult, s: Any) -> None:
    """The summary of ``validate --runtime tflm``."""
    con = console()
    t = table(f"armsim validate --runtime tflm: {res.model} on {s.cpu.title} ({res.kernels} "
              f"kernels), {res.n} inputs", ["", ""])
    row(t, "inputs", res.inputs)
    row(t, "host", res.host_source)
    row(t, "agreeing inputs", f"{res.bit_exact_inputs}/{res.n}")
    diff = f"{res.max_abs_diff:.3g}"
    if present(res.max_abs_diff_q):
        diff = f"{res.max_abs_diff_q} step(s) ({diff})"
    row(t, "max |Δ|", diff)
    if present(res.emulator_accuracy):
        row(t, "accuracy", f"emulator {res.emulator_accuracy:.4f}, host {res.host_accuracy:.4f}")
    ins = res.instructions
    row(t, "instructions (Invoke)", f"min {ins['min']:,.0f}, median {ins['median']:,.0f}, "
        f"max {ins['max']:,.0f}")
    for k, v in latency_rows(res):
        row(t, k, v)
    row(t, "arena", arena_line(s))
    if present(res.inputs_per_second) and res.inputs_per_second:
        row(t, "speed", f"{res.inputs_per_second:g} inputs/s ({res.seconds:g} s)")
    if present(res.note):
        row(t, "note", res.note)
    row(t, "verdict", "PASS" if res.passed else
        f"FAIL (inputs {', '.join(map(str, res.differing_inputs[:10]))} differ)"
        if res.differing_inputs else "FAIL (nothing compared)")
    con.print(t)
    if present(res.latency_ms):
        con.print(latency_line(res, res.latency_ms["mean"], "per inference on average"),
                  markup=False)
    for d in res.diagnosis if present(res.diagnosis) else []:
        diagnosis(d["input"], d)


def profile(p: Any, label: str, agree: bool | None, top: int) -> None:
    """Per-operator rows (with AllocateTensors and Invoke's glue), the profiler's own cost,
    the per-function table, footprint and arena."""
    con = console()
    total = max(p.instructions, 1)
    t = table(f"armsim profile --runtime tflm: {p.model} on {p.cpu_title}, TFLM with "
              f"{p.kernels} kernels, {label} (cycles: estimates, {p.cycle_model})",
              ["#", "op", "output", "instructions", "%", "est. cycles"],
              {"#", "instructions", "%", "est. cycles"})
    row(t, "", "(AllocateTensors, once)", "", f"{p.allocate['instructions']:,}", "",
        f"{p.allocate['cycles_estimate']:,.0f}")
    for o in p.ops:
        row(t, o.index, o.op_type, o.output[:60], f"{o.instructions:,}",
            f"{100 * o.instructions / total:.1f}", f"{o.cycles_estimate:,.0f}")
    row(t, "", "(Invoke's glue)", "", f"{p.glue['instructions']:,}",
        f"{100 * p.glue['instructions'] / total:.1f}", f"{p.glue['cycles_estimate']:,.0f}")
    row(t, "", "Invoke", "", f"{p.instructions:,}", "100.0", f"{p.cycles_estimate:,.0f}",
        style="bold")
    con.print(t)
    con.print(f"the per-op profiler adds {p.profiler['instructions']:,} instructions to Invoke "
              "in its own build (not counted in the rows above)", markup=False)
    ft = table("per function (Invoke)", ["function", "calls", "instructions", "%",
                                         "est. cycles"], {"calls", "instructions", "%",
                                                          "est. cycles"})
    for f in p.functions[:max(top, 10)]:
        row(ft, f["name"], f"{f['calls']:,}" if f["calls"] else "", f"{f['instructions']:,}",
            f"{100 * f['instructions'] / total:.1f}", f"{f['cycles_estimate']:,.0f}")
    con.print(ft)
    fp = p.footprint
    con.print(f"flash: {fp['flash']['total']:,} B (code {fp['flash']['code']:,}, model "
              f"{fp['flash']['model']:,}, other rodata {fp['flash']['rodata']:,}, data "
              f"{fp['flash']['data']:,}) of {fp['mcu_flash']:,}", markup=False)
    ram = fp["ram"]
    con.print(f"RAM: {ram['total']:,} B (arena {ram['arena']:,}, data {ram['data']:,}, bss "
              f"{ram['bss']:,}, peak stack {ram['stack_peak']:,}) of {fp['mcu_sram']:,} on "
              f"{fp['mcu']}: " + ("fits" if fp["fits"] else "DOES NOT FIT: "
                                 + "; ".join(fp["fit_problems"])), markup=False)
    a = p.arena
    con.print(f"arena: {a['bytes']:,} B ("
              + ("the smallest that works" if a["smallest"] == a["bytes"]
                 else f"--arena; the smallest that works is {a['smallest']:,}")
              + f"; arena_used_bytes() {a['arena_used_bytes']:,})", markup=False)
    con.print(latency_line(p), markup=False)
    if agree is not None:
        con.print(f"host agreement: {'yes' if agree else 'NO'}", markup=False)


def runtimes(rows: list[dict[str, Any]], title: str) -> None:
    """``profile --compare-runtimes``: one row per runtime."""
    t = table(title, ["runtime", "kernels", "instructions", "est. cycles", "ms", "flash B",
                      "RAM B", "agrees"],
              {"instructions", "est. cycles", "ms", "flash B", "RAM B"})
    for r in rows:
        row(t, r["runtime"], r["kernels"], f"{r['instructions']:,}",
            f"{r['cycles_estimate']:,.0f}", f"{r['ms']:.3f}", f"{r['flash']:,}",
            f"{r['ram']:,}", r["agrees"])
    console().print(t)
