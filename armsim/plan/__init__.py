"""The memory plan: every tensor's address, size and element order, derived from the graph.

``armsim.plan(graph, ...)`` is :func:`make_plan`: this package is callable, so the library
call and the package name do not shadow each other.
"""

from __future__ import annotations

import dataclasses
import sys
import types
from typing import Any, Mapping

from armsim.errors import LayoutError
from armsim.graph import Graph
from armsim.plan.buffers import Buffer, Plan
from armsim.plan.planner import plan as auto_plan
from armsim.plan.seed import matches as seed_matches
from armsim.plan.seed import seed_plan

LAYOUTS = ("auto", "seed", "natural")


def make_plan(g: Graph, layout: str = "auto", base: int | None = None,
              weights_in: str | None = None, sram_base: int = 0x20000000,
              cpu: Any = None, scratch: Mapping[int, int] | None = None) -> Plan:
    """The plan for ``g``: the seed preset when asked, or when ``auto`` and the graph is the
    seed architecture with weights in SRAM at the default base; else a generated plan.

    ``weights_in``: "flash" (compiled into .rodata, as firmware ships them: the default) or
    "sram" (written by a µVision script, as the seed workflow does: the default of the seed
    layout, the only place it keeps them).

    An int8 graph's arena holds each op's CMSIS-NN scratch, whose size depends on the CPU:
    ``scratch`` gives it (op index -> bytes, as :func:`armsim.firmware.scratch.scratch_sizes`
    measures it on the target CPU). Without it the plan leaves the scratch to the Session (or
    build) that completes it for its CPU (``Plan.scratch_pending``). Planning never compiles
    or runs anything; ``cpu`` is accepted for compatibility and not used here."""
    if weights_in is None:
        weights_in = "sram" if layout == "seed" else "flash"
    if g.quantized:
        if layout == "seed":
            raise LayoutError("the seed layout is float32; an int8 model takes a generated "
                              "plan (--layout auto or natural)")
        p = auto_plan(g, sram_base if base is None else base, weights_in, dict(scratch or {}))
        return p if scratch is not None else dataclasses.replace(p, scratch_pending=True)
    if layout not in LAYOUTS:
        raise LayoutError(f"--layout {layout!r}: expected one of {', '.join(LAYOUTS)}")
    if layout == "seed":
        if weights_in != "sram" or base not in (None, 0x20000000):
            raise LayoutError("the seed layout has fixed SRAM addresses: it cannot take "
                              "--weights-in flash or another --base")
        return seed_plan(g)
    if layout == "auto" and weights_in == "sram" and base in (None, 0x20000000) \
            and seed_matches(g) is not None:
        return seed_plan(g)
    return auto_plan(g, sram_base if base is None else base, weights_in)


def with_scratch(plan: Plan, scratch: Mapping[int, int]) -> Plan:
    """An int8 plan made again with each op's scratch bytes (same base and weights)."""
    return auto_plan(plan.graph, plan.base, plan.weights_in, dict(scratch))


class _CallablePackage(types.ModuleType):
    """``armsim.plan(...)`` calls :func:`make_plan`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Plan:
        return make_plan(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage

__all__ = ["Buffer", "Plan", "make_plan", "with_scratch", "seed_plan", "seed_matches", "LAYOUTS"]
