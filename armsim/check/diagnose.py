"""When emulator and host disagree: the first op whose output diverges, and the layout
mistake the memory matches, found by reading each buffer under every other axis order of
its tensor (the plan's own order excepted)."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from armsim.graph import Graph
from armsim.model import keras_host, reference
from armsim.ops import registry
from armsim.plan import Buffer, Plan

#: Relative difference (to the host output's largest magnitude) that counts as diverging.
DIVERGENCE = 1e-4


@dataclass(frozen=True)
class OpDiff:
    """Emulator vs host for one op's output."""

    op: str
    tensor: str
    max_abs_diff: float
    host_scale: float
    host: str  # "keras" (the layer's own output) or "reference" (numpy, no Keras layer)

    @property
    def relative(self) -> float:
        """Max difference relative to the host output's largest magnitude."""
        return self.max_abs_diff / max(self.host_scale, 1e-30)


def op_diffs(g: Graph, host: Mapping[str, np.ndarray], emu: Mapping[str, np.ndarray],
             keras_tensors: set[str]) -> list[OpDiff]:
    """Max |emulator - host| for every op output, in execution order."""
    out = []
    for op in g.ops:
        t = op.outputs[0]
        if t not in emu or t not in host:
            continue
        h = np.asarray(host[t], np.float64)
        e = np.asarray(emu[t], np.float64).reshape(h.shape)
        bad = np.isnan(h).any() or np.isnan(e).any()
        d = float("inf") if bad else float(np.max(np.abs(h - e))) if h.size else 0.0
        out.append(OpDiff(op.name, t, d, float(np.max(np.abs(h))) if h.size else 0.0,
                          "keras" if t in keras_tensors else "reference"))
    return out


def first_divergence(diffs: list[OpDiff], relative_tol: float = DIVERGENCE) -> OpDiff | None:
    """The first op whose difference exceeds ``relative_tol`` of its output's scale."""
    return next((d for d in diffs if d.relative > relative_tol), None)


# -- layout mistakes ------------------------------------------------------------------------


def axis_names(g: Graph, b: Buffer, shape: tuple[int, ...]) -> tuple[str, ...]:
    """Names of the axes of ``shape`` (a buffer's tensor or its finer view): an input's are
    spatial, a constant's are what the op kind reading it calls them (a0, a1, ... else)."""
    generic = tuple(f"a{i}" for i in range(len(shape)))
    if b.role == "input":
        return ("row", "col", "ch")[-len(shape):] if len(shape) <= 3 else generic
    user = next((o for o in g.ops if b.tensor in o.inputs), None)
    names = registry.of(user).weight_axes(shape) if user is not None else \
        (("row", "col", "ch") if len(shape) == 3 else None)
    return names or generic


def _view_axes(b: Buffer, view: tuple[int, ...]) -> tuple[int, ...] | None:
    """The buffer's axes expressed over the finer ``view`` of its tensor (None if not)."""
    if view == b.shape:
        return b.axes
    # a Dense kernel (K, out) viewed as (h, w, c, out): K splits into the first axes
    if len(b.shape) == 2 and int(np.prod(view[:-1])) == b.shape[0] and view[-1] == b.shape[1]:
        k_axes = tuple(range(len(view) - 1))
        return tuple(itertools.chain.from_iterable(
            k_axes if a == 0 else (len(view) - 1,) for a in b.axes))
    return None


def _nearest_first(want: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every other axis order, fewest axes moved first (axes of size 1 make several orders
    hold the same bytes; the simplest explanation is the one reported)."""
    perms = [p for p in itertools.permutations(range(len(want))) if p != want]
    return sorted(perms, key=lambda p: sum(a != b for a, b in zip(p, want)))


def _label(names: tuple[str, ...], found: tuple[int, ...], want: tuple[int, ...],
           shape: tuple[int, ...] = ()) -> str:
    """A short name for how ``found`` differs from ``want`` (axes of size 1 ignored: they
    do not change the order of the bytes)."""
    if shape:
        keep = [a for a in range(len(shape)) if shape[a] > 1]
        rank = {a: i for i, a in enumerate(keep)}
        names = tuple(names[a] for a in keep)
        found = tuple(rank[a] for a in found if a in rank)
        want = tuple(rank[a] for a in want if a in rank)
    if found == tuple(reversed(want)) and len(want) == 2:
        return "transposed"
    diff = [i for i in range(len(want)) if found[i] != want[i]]
    if len(diff) == 2 and {names[found[diff[0]]], names[found[diff[1]]]} == {"row", "col"}:
        return "rows and columns swapped"
    if "ch" in names and "row" in names:
        fo = [names[a] for a in found if names[a] in ("row", "col", "ch")]
        wo = [names[a] for a in want if names[a] in ("row", "col", "ch")]
        if wo[-1] == "ch" and fo[0] == "ch":
            return "flattened channel-first" if "out" in names else "channel-first"
    if found == tuple(reversed(want)):
        return "transposed"
    return "in another axis order"


@dataclass(frozen=True)
class Finding:
    """A buffer whose memory matches the model's tensor under another element order."""

    buffer: str
    label: str
    found: str
    expected: str
    matches_host: bool | None
    diff: float | None

    def message(self) -> str:
        """One sentence for the user."""
        if self.found == "other values":
            return (f"{self.buffer} holds values different from the model's (no axis order of "
                    f"the tensor matches); the plan needs {self.expected}")
        head = (f"{self.buffer} look {self.label}: the memory holds {self.found}, "
                f"the plan needs {self.expected}")
        if self.matches_host is None:
            return head
        if self.matches_host:
            return head + "; read that way, every output matches the host"
        return head + (f"; read that way, outputs still differ by up to {self.diff:.3g} "
                       "(another problem too)")


def _axes_text(name: str, names: tuple[str, ...], axes: tuple[int, ...]) -> str:
    return f"{name}[{']['.join(names[a] for a in axes)}]"


def layout_mistakes(g: Graph, plan: Plan, memory: Mapping[str, np.ndarray],
                    x: np.ndarray | None, host_outputs: np.ndarray | None,
                    tolerance: float = 1e-5) -> list[Finding]:
    """Script buffers whose contents are the model's tensor in another element order.

    ``memory`` holds each buffer in memory order as the emulator has it; the input buffer
    is searched only when the input ``x`` is known.
    """
    found = []
    for b in plan:
        t = g.tensors[b.tensor]
        truth = t.data if t.is_constant else (
            (dict(zip(g.inputs, x)).get(b.tensor) if isinstance(x, tuple) else x)
            if b.role == "input" else None)
        if truth is None or b.name not in memory:
            continue
        mem = np.asarray(memory[b.name], np.float32).reshape(-1)
        if mem.size != b.count or np.array_equal(mem, b.pack(truth)):
            continue
        hit = None
        shapes = [b.shape] + ([t.view_shape] if t.view_shape and t.view_shape != b.shape else [])
        for view in shapes:
            want = _view_axes(b, view) or b.axes
            names = axis_names(g, b, view)
            vt = np.asarray(truth, np.float32).reshape(view)
            for perm in _nearest_first(want):
                if np.array_equal(mem, vt.transpose(perm).reshape(-1)):
                    hit = perm
                    break
            if hit is not None:
                break
        if hit is None:
            names = axis_names(g, b, b.shape)
            found.append(Finding(b.name, "different", "other values",
                                 _axes_text("W", names, b.axes), None, None))
            continue
        short = {"input": "IN"}.get(b.role, "W")
        match, diff = None, None
        if host_outputs is not None and t.is_constant and x is not None:
            match, diff = _reread_matches(g, plan, memory, b, x, host_outputs, tolerance)
        found.append(Finding(b.name, _label(names, hit, want, view), _axes_text(short, names, hit),
                             _axes_text(short, names, want), match, diff))
    return found


def with_weights(g: Graph, plan: Plan, memory: Mapping[str, np.ndarray],
                 skip: str | None = None) -> Graph:
    """The graph with its constants as memory holds them (buffer ``skip`` left as the
    model's own)."""
    tensors = dict(g.tensors)
    for b in plan:
        t = g.tensors[b.tensor]
        if t.is_constant and b.name in memory and b.name != skip:
            tensors[t.name] = dataclasses.replace(t, data=b.unpack(memory[b.name]))
    return dataclasses.replace(g, tensors=tensors)


def _reread_matches(g: Graph, plan: Plan, memory: Mapping[str, np.ndarray], wrong: Buffer,
                    x: np.ndarray, host_outputs: np.ndarray,
                    tolerance: float) -> tuple[bool, float]:
    """Evaluate the graph on the weights as memory holds them, ``wrong`` taken as the
    model's own tensor (what the kernel would compute had it read that buffer right)."""
    out = reference.outputs(with_weights(g, plan, memory, skip=wrong.name), x)
    diff = float(np.max(np.abs(out.astype(np.float64) - host_outputs)))
    return diff <= tolerance, diff


def reread_orders(g: Graph, plan: Plan, memory: Mapping[str, np.ndarray]):  # type: ignore[no-untyped-def]
    """Every (buffer, how, tensor): each weight buffer's memory read as the tensor stored
    in another axis order (what the model would hold had the writer used that order)."""
    for b in plan:
        t = g.tensors[b.tensor]
        if not t.is_constant or b.name not in memory:
            continue
        mem = np.asarray(memory[b.name], np.float32).reshape(-1)
        shapes = [b.shape] + ([t.view_shape] if t.view_shape and t.view_shape != b.shape else [])
        seen: set[bytes] = set()
        for view in shapes:
            want = _view_axes(b, view) or b.axes
            names = axis_names(g, b, view)
            for perm in _nearest_first(want):
                stored = tuple(view[a] for a in perm)
                tensor = mem.reshape(stored).transpose(np.argsort(perm)).reshape(b.shape)
                key = tensor.tobytes()
                if key in seen:
                    continue
                seen.add(key)
                yield b.name, f"as {_axes_text('W', names, perm)}", tensor


@dataclass(frozen=True)
class CodeFinding:
    """Code that reads a buffer in another element order than the plan stores it in."""

    buffer: str
    reads: str
    expected: str
    diff: float

    def message(self) -> str:
        """One sentence for the user."""
        return (f"the code reads {self.buffer} {self.reads}, but the plan stores it as "
                f"{self.expected}: the model evaluated with {self.buffer} read that way gives "
                f"the emulator's outputs (max diff {self.diff:.3g}); fix the indexing of "
                f"{self.buffer} in the code")


def code_reading_mistakes(g: Graph, plan: Plan, memory: Mapping[str, np.ndarray],
                          x: np.ndarray, emulator_outputs: np.ndarray,
                          tolerance: float = 1e-4) -> list[CodeFinding]:
    """Buffers the firmware's code reads in another element order: memory is right (it is
    the plan's), yet re-reading one buffer in another axis order and evaluating the model
    reproduces what the emulator computed. The input buffer is tried too."""
    emu = np.asarray(emulator_outputs, np.float64).reshape(-1)
    scale = tolerance * max(1.0, float(np.max(np.abs(emu))) if emu.size else 1.0)

    def diff(tensors: Mapping[str, Any], xin: np.ndarray) -> float:
        out = reference.outputs(dataclasses.replace(g, tensors=dict(tensors)), xin)
        return float(np.max(np.abs(out.astype(np.float64).reshape(-1) - emu)))

    found: list[CodeFinding] = []
    for name, how, tensor in reread_orders(g, plan, memory):
        b = plan[name]
        t = g.tensors[b.tensor]
        d = diff({**g.tensors, t.name: dataclasses.replace(t, data=tensor.astype(np.float32))},
                 x)
        if d <= scale:
            found.append(CodeFinding(name, how, _axes_text("W", axis_names(g, b, b.shape),
                                                            b.axes), d))
    inp = plan.input
    if inp.name in memory and not found and len(g.inputs) == 1:
        mem = np.asarray(memory[inp.name], np.float32).reshape(-1)
        names = axis_names(g, inp, inp.shape)
        for perm in _nearest_first(inp.axes):
            stored = tuple(inp.shape[a] for a in perm)
            d = diff(g.tensors, mem.reshape(stored).transpose(np.argsort(perm)).reshape(inp.shape))
            if d <= scale:
                found.append(CodeFinding(inp.name, f"as {_axes_text('IN', names, perm)}",
                                         _axes_text("IN", names, inp.axes), d))
                break
    return found


def _input_buffers(plan: Plan, g: Graph) -> set[str]:
    """The plan buffers of the graph's inputs (written per input, not from memory)."""
    return {plan.for_tensor(t).name for t in g.inputs}


REBUILT = "rebuilt from the script's weights"
#: The host of a float32 .tflite model.
TFLITE_HOST = "the TFLite interpreter on the float32 .tflite"

REBUILT_NOTE = ("the host model was rebuilt from the script's own weights: this checks the "
                "kernels, not the layout (give --model to check the layout too)")


def diagnose_inputs(s: Any, keras: Any, memory: dict[str, np.ndarray],
                    inputs: list[tuple[str, np.ndarray, np.ndarray]],
                    tolerance: float, rebuilt: bool = False) -> list[dict[str, Any]]:
    """Per-op comparison and layout-mistake findings for a few (name, input, host output).

    ``rebuilt``: the host was rebuilt from the script's own weights, so memory is the truth
    by construction: no memory-layout search, and the graph takes the script's values."""
    plan = s.plan
    # the graph armsim knows carries no values of its own when the host was rebuilt
    g = with_weights(s.graph, plan, memory) if rebuilt else s.graph
    reports = []
    for name, x, host_out in inputs:
        mem = dict(memory)
        for tensor, xk in zip(g.inputs, x if isinstance(x, tuple) else (x,)):
            b = plan.for_tensor(tensor)
            mem[b.name] = b.pack(xk)
        # the layout search reads memory only: it works for any ELF
        findings = [] if rebuilt else [
            f.message() for f in layout_mistakes(g, plan, mem, x, host_out, tolerance)]
        report: dict[str, Any] = {
            "input": name, "host_class": int(np.argmax(host_out)) if registry.is_classifier(g) else None,
            "findings": findings}
        s.write_buffers({k: v for k, v in memory.items() if k not in _input_buffers(plan, g)})
        if not s.op_entries():
            res = s.run(x)
            if not findings and not np.allclose(res.outputs, host_out, rtol=0,
                                                atol=tolerance):
                # the memory is the plan's: does the code read a buffer in another order?
                findings += [f.message() for f in code_reading_mistakes(
                    g, plan, mem, x, res.outputs)]
            report.update(emulator_class=res.predicted, ops=[], first_divergence=None,
                          note="no per-op comparison: the ELF has no armsim_op<i>_<name> functions (your "
                               "own code); the layout checks read memory only")
            reports.append(report)
            continue
        res = s.run(x, per_op=True)
        keras_vals = keras_host.layer_outputs(keras, g, x)
        hv = {**reference.evaluate(g, x), **keras_vals}
        diffs = op_diffs(g, hv, res.tensors, set(keras_vals))
        first = first_divergence(diffs)
        report.update(emulator_class=res.predicted,
                      ops=[{"op": d.op, "tensor": d.tensor, "max_abs_diff": d.max_abs_diff,
                            "relative": d.relative, "host": d.host} for d in diffs],
                      first_divergence=first.op if first else None)
        reports.append(report)
    return reports
