"""Profiles: exact instructions per function and per layer, estimated cycles, footprint,
peak stack, and hot spots with their source lines."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from . import cycles as C
from . import disasm
from . import layout as L
from .mcu import check_fit

#: Layers in execution order with the function that starts each; "startup" runs before.
LAYER_ENTRIES = (("conv", "armsim_conv2d_relu_f32"), ("pool", "armsim_maxpool2d_f32"),
                 ("dense", "armsim_fully_connected_f32"), ("softmax", "armsim_softmax_f32"),
                 ("argmax", "armsim_argmax_f32"))
LAYERS = ("startup",) + tuple(name for name, _ in LAYER_ENTRIES)
STACK_PAINT = 0xA5A5A5A5


@dataclass
class FunctionRow:
    """One function's share of one layer."""

    name: str
    layer: str
    calls: int
    instructions: int
    cycles_estimate: float


@dataclass
class LayerRow:
    """One layer's totals."""

    layer: str
    instructions: int
    cycles_estimate: float
    macs: int
    instructions_per_mac: float | None
    cycles_per_mac: float | None


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

    cpu: str
    cpu_title: str
    kernels: str
    cycle_model: str
    cycle_model_exact_table: bool
    wait_states: int
    total_instructions: int
    total_cycles_estimate: float
    predicted: int
    outputs: list[float]
    functions: list[FunctionRow]
    layers: list[LayerRow]
    footprint: dict[str, Any]
    hotspots: list[Hotspot] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Stable keys for --json."""
        d = asdict(self)
        d["estimate_note"] = ("cycles are estimates from the cycle model in docs/cycle-model.md, "
                              "not measurements")
        return d


def _delta(now: dict[int, int], before: dict[int, int]) -> dict[int, int]:
    return {k: n - before.get(k, 0) for k, n in now.items() if n - before.get(k, 0)}


def profile(sim: Any, wait_states: int = 0, hotspots: int = 10) -> Profile:
    """Run the network once from reset (inputs already in memory) and profile it."""
    m = sim.machine
    image = m.image
    m.begin(sim.max_instructions, sim.timeout_s)
    paint_lo, paint_hi = _paint_stack(m)
    snaps = [({}, {})]
    for _layer, fn in LAYER_ENTRIES:
        m.go(stop=image.symbol(fn).address)
        snaps.append(m.snapshot())
    stats = m.finish()
    snaps.append(m.snapshot())
    peak_stack = _stack_peak(m, paint_lo, paint_hi)

    cpu = sim.build.cpu.name
    timing = C.timing_for(cpu)
    fn_rows: dict[tuple[str, str], FunctionRow] = {}
    layer_rows = []
    macs = L.macs(sim.layout.filters)
    block_totals: dict[int, list[float]] = {}
    for i, layer in enumerate(LAYERS):
        counts = _delta(snaps[i + 1][0], snaps[i][0])
        adjust = _delta(snaps[i + 1][1], snaps[i][1])
        for a in list(adjust):
            # a stop at the start of a block took the whole block back: drop that execution
            key = (a << 32) | m.taken_back_tails[a]
            if counts.get(key, 0) > 0 and adjust[a] == -m._icount[(a, m.taken_back_tails[a])]:
                counts[key] -= 1
                if not counts[key]:
                    del counts[key]
                del adjust[a]
        keys = np.array(list(counts), np.uint64)
        vals = np.array(list(counts.values()), np.uint64)
        est = C.estimate(cpu, keys, vals, m.read, wait_states) if len(keys) else None
        l_instr, l_cyc = 0, 0.0
        for j, (k, n) in enumerate(counts.items()):
            a, s = k >> 32, k & 0xFFFFFFFF
            ins = n * m._icount[(a, s)]
            cyc = float(est.per_block[j]) if est is not None else 0.0
            f = image.function_at(a)
            name = f.name if f else f"0x{a:08X}"
            row = fn_rows.setdefault((name, layer), FunctionRow(name, layer, 0, 0, 0.0))
            row.instructions += ins
            row.cycles_estimate += cyc
            if f is not None and a == f.address:
                row.calls += n
            l_instr += ins
            l_cyc += cyc
            tot = block_totals.setdefault(k, [0, 0.0])
            tot[0] += ins
            tot[1] += cyc
        for a, n in adjust.items():
            f = image.function_at(a)
            name = f.name if f else f"0x{a:08X}"
            row = fn_rows.setdefault((name, layer), FunctionRow(name, layer, 0, 0, 0.0))
            row.instructions += n
            l_instr += n
            tail = C.block_cost(m.read(a, m.taken_back_tails[a]), a, timing)
            back = tail.base + (timing.refill + wait_states if tail.end == "taken" else 0)
            row.cycles_estimate -= back
            l_cyc -= back
        mac = macs.get(layer, 0)
        layer_rows.append(LayerRow(layer, l_instr, round(l_cyc, 1), mac,
                                   round(l_instr / mac, 3) if mac else None,
                                   round(l_cyc / mac, 3) if mac else None))
    functions = sorted((r for r in fn_rows.values() if r.instructions),
                       key=lambda r: (LAYERS.index(r.layer), -r.instructions))
    for r in functions:
        r.cycles_estimate = round(r.cycles_estimate, 1)
    total = sum(r.instructions for r in functions)
    assert total == stats.instructions, (total, stats.instructions)
    total_cycles = round(sum(r.cycles_estimate for r in layer_rows), 1)
    return Profile(
        cpu=cpu, cpu_title=sim.build.cpu.title, kernels=sim.build.kernels,
        cycle_model=timing.name, cycle_model_exact_table=timing.exact, wait_states=wait_states,
        total_instructions=total, total_cycles_estimate=total_cycles,
        predicted=m.read_i32("armsim_predicted"),
        outputs=[float(v) for v in m.read_f32("armsim_output")], functions=functions,
        layers=layer_rows, footprint=footprint(sim, peak_stack),
        hotspots=_hotspots(m, block_totals, total, hotspots))


def _paint_stack(m: Any) -> tuple[int, int]:
    lo = m.image.symbol("_ebss").address
    hi = m.initial_sp
    lo = (lo + 3) & ~3
    m.uc.mem_write(lo, STACK_PAINT.to_bytes(4, "little") * ((hi - lo) // 4))
    return lo, hi


def _stack_peak(m: Any, lo: int, hi: int) -> int:
    words = np.frombuffer(m.read(lo, hi - lo), "<u4")
    used = np.flatnonzero(words != STACK_PAINT)
    return 0 if used.size == 0 else hi - (lo + 4 * int(used[0]))


def footprint(sim: Any, peak_stack: int) -> dict[str, Any]:
    """Flash and RAM use from the ELF sections, the layout buffers, and the fit check."""
    secs = sim.image.sections
    size = {name: secs.get(name, (0, 0, "", 0))[1] for name in
            (".isr_vector", ".text", ".rodata", ".ARM.exidx", ".data", ".bss")}
    lay = sim.layout
    flash = {"text": size[".isr_vector"] + size[".text"] + size[".ARM.exidx"],
             "rodata": size[".rodata"], "data": size[".data"]}
    buffers = {b.name: {"address": f"0x{b.address:08X}", "bytes": b.nbytes} for b in lay}
    ram = {"data": size[".data"], "bss": size[".bss"],
           "layout_buffers": sum(b.nbytes for b in lay),
           "layout_reserved": lay.reserved_end - lay.start, "stack_peak": peak_stack}
    mcu = sim.build.mcu
    fit = check_fit(mcu, lay.start, lay.reserved_end, size[".data"] + size[".bss"],
                    sum(flash.values()), peak_stack)
    return {"flash": {**flash, "total": sum(flash.values())},
            "ram": {**ram, "total": ram["layout_reserved"] + ram["data"] + ram["bss"] + peak_stack},
            "buffers": buffers, "mcu": mcu.name,
            "mcu_flash": mcu.flash_size, "mcu_sram": mcu.sram_size,
            "fits": fit.ok, "fit_problems": list(fit.problems)}


def _hotspots(m: Any, totals: dict[int, list[float]], total: int, n: int) -> list[Hotspot]:
    out = []
    for k, (ins, cyc) in sorted(totals.items(), key=lambda kv: -kv[1][0])[:n]:
        a, s = k >> 32, k & 0xFFFFFFFF
        f = m.image.function_at(a)
        line = m.image.source_line(a)
        lst = disasm.listing(m.read(a, s), a)
        shown = [f"0x{x:08X}: {t}" for x, t in lst[:6]] + (["..."] if len(lst) > 6 else [])
        out.append(Hotspot(f"0x{a:08X}", f"{f.name}+0x{a - f.address:x}" if f else "?",
                           f"{line[0]}:{line[1]}" if line else "?", int(ins),
                           round(100 * ins / max(total, 1), 2), round(cyc, 1), shown))
    return out
