"""Profiles: exact instructions per op, per Keras layer and per function, estimated cycles,
footprint, peak stack, and hot spots with their source lines.

A run stops at each op function's entry (and at the finish step), so every stretch between
two stops is exactly one op's work, library calls such as ``expf`` included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from armsim.firmware.build import MIN_STACK
from armsim.firmware.render import FINISH
from armsim.machine import disasm, stack
from armsim.machine.windows import START, Snapshot, window
from armsim.ops import registry
from armsim.parts.flash import Fetch
from armsim.session.results import (ABSENT, ESTIMATE_NOTE, fields_json, fit_problems,
                                    latency_ms)
from armsim.session.session import Session
from armsim.timing import cycles as C
from armsim.timing.accuracy import error_json
from armsim.timing.datamem import summary

STARTUP, FINISH_ROW, NETWORK_ROW = "(startup)", "(finish)", "(your network code)"


@dataclass
class FunctionRow:
    """One function's share of one op (``layer`` names the op, or startup/finish)."""

    name: str
    layer: str
    calls: int
    instructions: int
    cycles_estimate: float


@dataclass
class OpRow:
    """One graph op: its cost and work."""

    name: str
    layer: str
    op: str
    macs: int
    instructions: int
    cycles_estimate: float
    instructions_per_mac: float | None
    cycles_per_mac: float | None
    #: bytes of the op's weights and biases, and of its output and scratch buffers
    weights_bytes: int = 0
    ram_bytes: int = 0


@dataclass
class LayerRow:
    """One Keras layer: the ops it became (or where it went) and their total cost."""

    name: str
    op: str
    macs: int
    instructions: int
    cycles_estimate: float
    instructions_per_mac: float | None
    cycles_per_mac: float | None
    note: str = ""


@dataclass
class Hotspot:
    """A hot block: where, how much, and what it is."""

    address: str
    function: str
    source: str
    instructions: int
    percent: float
    cycles_estimate: float
    disassembly: list[str]


@dataclass
class Profile:
    """Everything ``armsim profile`` reports for one CPU variant."""

    model: str
    cpu: str
    cpu_title: str
    kernels: str
    cycle_model: str
    cycle_model_exact_table: bool
    wait_states: int
    total_instructions: int
    total_cycles_estimate: float
    predicted: int | None
    outputs: list[float]
    macs: int
    layers: list[LayerRow]
    ops: list[OpRow]
    startup: dict[str, float]
    finish: dict[str, float]
    functions: list[FunctionRow]
    footprint: dict[str, Any]
    hotspots: list[Hotspot] = field(default_factory=list)
    #: the flash timing applied (flash.py), in words
    flash: str = ""
    #: the core clock the latency is at (MHz): --clock-mhz, else the part's usual clock
    #: (the MCU preset's; a stated nominal one for generic and large); None: not given
    clock_mhz: float | None = None
    #: the estimated cycles at that clock, in ms (an estimate from the cycle model)
    latency_ms: float | None = None
    #: the flash accelerator or cache state the estimate used ("" where the part has none)
    flash_accel: str = ""
    #: on an M7, loads and stores in AXI SRAM and misaligned accesses, and their cycles
    #: (datamem.summary); None on other cores
    data_memory: dict[str, Any] | None = None
    #: the input profiled (the command fills these in)
    input: str = ABSENT
    #: versions of armsim, the engine, the CPU model and the libraries
    versions: dict[str, str] = ABSENT
    #: the host's comparison of the profiled input (when the command has a host)
    host_predicted: int | None = ABSENT
    max_abs_diff: float = ABSENT
    max_ulp: int = ABSENT
    agree: bool = ABSENT

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (``armsim/schemas/profile.schema.json``)."""
        d = fields_json(self)
        d["estimate_note"] = ESTIMATE_NOTE
        d["estimate_error_pct"] = error_json(self.cpu, self.footprint.get("mcu"))
        return d


def _per(n: float, macs: int) -> float | None:
    return round(n / macs, 3) if macs else None


def profile(s: Session, x: np.ndarray, wait_states: "int | Fetch" = 0,
            hotspots: int = 10) -> Profile:
    """Run one inference of ``x`` from reset and profile it; ``wait_states`` is a flash
    timing (flash.py), or a number of wait states with the prefetch on."""
    fetch = wait_states if isinstance(wait_states, Fetch) else Fetch(wait_states)
    wait_states = fetch.wait_states
    m = s.machine
    image = m.image
    g = s.graph
    s.write_input(x)
    m.begin(s.max_instructions, s.timeout_s)
    painted = stack.paint(m)
    entries = s.op_entries()
    if FINISH in image.symbols:
        segments = [STARTUP] + [op.name for _i, op, _a in entries] + [FINISH_ROW]
        stops = [a for _i, _op, a in entries] + [image.symbol(FINISH).address]
    else:  # the user's own code: one segment from its entry function on
        entry = s.entry_address()
        segments = [STARTUP, NETWORK_ROW] if entry is not None else [NETWORK_ROW]
        stops = [entry] if entry is not None else []
    snaps: list[Snapshot] = [START]
    for addr in stops:
        m.go(stop=addr)
        snaps.append(m.snapshot())
    stats = m.finish()
    snaps.append(m.snapshot())
    peak_stack = stack.peak(m, painted) if painted is not None else 0

    cpu = s.cpu.name
    timing = C.timing_for(m.timing_cpu)
    fn_rows: dict[tuple[str, str], FunctionRow] = {}
    seg_cost: dict[str, tuple[int, float]] = {}
    block_totals: dict[int, list[float]] = {}
    for i, seg in enumerate(segments):
        w = window(m, snaps[i], snaps[i + 1], fetch)
        for j, (k, n) in enumerate(w.counts.items()):
            a, size = k >> 32, k & 0xFFFFFFFF
            ins = n * m.instructions_in(a, size)
            cyc = float(w.estimate.per_block[j]) if w.estimate is not None else 0.0
            f = image.function_at(a)
            name = f.name if f else f"0x{a:08X}"
            row = fn_rows.setdefault((name, seg), FunctionRow(name, seg, 0, 0, 0.0))
            row.instructions += ins
            row.cycles_estimate += cyc
            if f is not None and a == f.address:
                row.calls += n
            tot = block_totals.setdefault(k, [0, 0.0])
            tot[0] += ins
            tot[1] += cyc
        for a, n in w.adjust.items():
            f = image.function_at(a)
            name = f.name if f else f"0x{a:08X}"
            row = fn_rows.setdefault((name, seg), FunctionRow(name, seg, 0, 0, 0.0))
            row.instructions += n
            row.cycles_estimate -= w.back[a]
        s_instr, s_cyc = w.instructions, w.cycles
        seg_cost[seg] = (s_instr, round(s_cyc, 1))
    order = {seg: i for i, seg in enumerate(segments)}
    functions = sorted((r for r in fn_rows.values() if r.instructions),
                       key=lambda r: (order[r.layer], -r.instructions))
    for r in functions:
        r.cycles_estimate = round(r.cycles_estimate, 1)
    total = sum(r.instructions for r in functions)
    assert total == stats.instructions, (total, stats.instructions)
    ops = []
    for i, op in enumerate(g.ops):
        ins, cyc = seg_cost.get(op.name, (0, 0.0))
        macs = registry.op_macs(g, op)
        ops.append(OpRow(op.name, op.layer, op.kind, macs, ins, cyc, _per(ins, macs),
                         _per(cyc, macs), *_op_bytes(s, i)))
    by_op = {r.name: r for r in ops}
    layers = []
    for li in g.layers:
        rows = [by_op[n] for n in li.ops]
        ins = sum(r.instructions for r in rows)
        cyc = round(sum(r.cycles_estimate for r in rows), 1)
        macs = sum(r.macs for r in rows)
        kind = "+".join(r.op for r in rows) or (li.note or "none")
        layers.append(LayerRow(li.name, kind, macs, ins, cyc, _per(ins, macs), _per(cyc, macs),
                               li.note))
    total_cycles = round(sum(c for _i, c in seg_cost.values()), 1)
    return Profile(
        model=g.name, cpu=cpu, cpu_title=s.cpu.title, kernels=s.build.kernels,
        cycle_model=timing.name, cycle_model_exact_table=timing.exact, wait_states=wait_states,
        flash=fetch.note, clock_mhz=fetch.clock_mhz, flash_accel=fetch.accel,
        latency_ms=latency_ms(total_cycles, fetch.clock_mhz),
        total_instructions=total, total_cycles_estimate=total_cycles,
        predicted=s.predicted(), outputs=[float(v) for v in s.outputs()], macs=registry.macs(g),
        layers=layers, ops=ops,
        startup={"instructions": seg_cost.get(STARTUP, (0, 0.0))[0],
                 "cycles_estimate": seg_cost.get(STARTUP, (0, 0.0))[1]},
        finish={"instructions": seg_cost.get(FINISH_ROW, (0, 0.0))[0],
                "cycles_estimate": seg_cost.get(FINISH_ROW, (0, 0.0))[1]},
        functions=functions, footprint=footprint(s, peak_stack),
        hotspots=_hotspots(m, block_totals, total, hotspots),
        data_memory=None if m.accesses is None or snaps[-1][2] is None
        else summary(m.accesses, snaps[-1][2], m.data_timing,
                     m.younger_loads(stats.keys, snaps[-1][2])))


def _op_bytes(s: Session, i: int) -> tuple[int, int]:
    """(weights and biases, output and scratch) bytes of op ``i`` in the plan."""
    g, plan = s.graph, s.plan
    op = g.ops[i]
    weights = sum(plan.for_tensor(n).nbytes for n in op.inputs if g.tensors[n].is_constant)
    ram = 0 if registry.of(op).alias else sum(plan.for_tensor(n).nbytes for n in op.outputs)
    try:
        ram += plan[f"scratch:{i}"].nbytes
    except KeyError:
        pass
    return weights, ram


def footprint(s: Session, peak_stack: int) -> dict[str, Any]:
    """Flash and RAM use from the ELF sections and the plan, and the fit check."""
    secs = s.image.sections
    size = {name: secs.get(name, (0, 0, "", 0))[1] for name in
            (".isr_vector", ".text", ".rodata", ".ARM.exidx", ".data", ".bss")}
    plan = s.plan
    flash = {"text": size[".isr_vector"] + size[".text"] + size[".ARM.exidx"],
             "rodata": size[".rodata"], "data": size[".data"],
             "weights_in_rodata": plan.flash_weight_bytes()}
    flash_total = flash["text"] + flash["rodata"] + flash["data"]
    buffers = {b.name: {"address": f"0x{s.address(b.name):08X}", "bytes": b.nbytes,
                        "region": b.region} for b in plan.buffers}
    script_bytes = sum(b.nbytes for b in plan)
    ram = {"inputs_and_weights": script_bytes, "arena": plan.arena[1],
           "plan_reserved": plan.sram_bytes(), "data": size[".data"], "bss": size[".bss"],
           "stack_peak": peak_stack}
    ram_total = (plan.reserved_end - s.mcu.sram_base) + size[".data"] + size[".bss"] + \
        max(peak_stack, 0)
    mcu = s.mcu
    problems = fit_problems(mcu, ram_total, f"plan {plan.sram_bytes():,}, .data+.bss "
                            f"{size['.data'] + size['.bss']:,}, stack {peak_stack:,}",
                            flash_total)
    return {"weights_in": plan.weights_in,
            "flash": {**flash, "total": flash_total},
            "ram": {**ram, "total": ram_total, "min_stack_reserved": MIN_STACK},
            "buffers": buffers, "mcu": mcu.name, "mcu_flash": mcu.flash_size,
            "mcu_sram": mcu.sram_size, "fits": not problems, "fit_problems": problems}


def _hotspots(m: Any, totals: dict[int, list[float]], total: int, n: int) -> list[Hotspot]:
    out = []
    for k, (ins, cyc) in sorted(totals.items(), key=lambda kv: -kv[1][0])[:max(n, 0)]:
        a, s = k >> 32, k & 0xFFFFFFFF
        f = m.image.function_at(a)
        line = m.image.source_line(a)
        lst = disasm.listing(m.read(a, s), a)
        shown = [f"0x{x:08X}: {t}" for x, t in lst[:6]] + (["..."] if len(lst) > 6 else [])
        out.append(Hotspot(f"0x{a:08X}", f"{f.name}+0x{a - f.address:x}" if f else "?",
                           f"{line[0]}:{line[1]}" if line else "?", int(ins),
                           round(100 * ins / max(total, 1), 2), round(cyc, 1), shown))
    return out
