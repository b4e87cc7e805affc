"""The memory plan: every tensor's address, size and element order, derived from the graph.

``armsim.plan(graph, ...)`` is :func:`make_plan`: this package is callable, so the library
call and the package name do not shadow each other.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from armsim.errors import LayoutError
from armsim.graph import Graph
from armsim.plan.buffers import Buffer, Plan
from armsim.plan.planner import plan as auto_plan
from armsim.plan.seed import matches as seed_matches
from armsim.plan.seed import seed_plan

LAYOUTS = ("auto", "seed", "natural")


def make_plan(g: Graph, layout: str = "auto", base: int | None = None,
              weights_in: str = "sram", sram_base: int = 0x20000000,
              cpu: Any = None) -> Plan:
    """The plan for ``g``: the seed preset when asked, or when ``auto`` and the graph is the
    seed architecture with weights in SRAM at the default base; else a generated plan.

    An int8 graph's plan includes each op's CMSIS-NN scratch, whose size depends on the
    CPU (``cpu``: a CpuVariant or name; default m4f)."""
    if g.quantized:
        if layout == "seed":
            raise LayoutError("the seed layout is float32; an int8 model takes a generated "
                              "plan (--layout auto or natural)")
        from armsim.firmware.scratch import scratch_sizes

        return auto_plan(g, sram_base if base is None else base, weights_in,
                         scratch_sizes(g, cpu or "m4f"))
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


class _CallablePackage(types.ModuleType):
    """``armsim.plan(...)`` calls :func:`make_plan`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Plan:
        return make_plan(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage

__all__ = ["Buffer", "Plan", "make_plan", "seed_plan", "seed_matches", "LAYOUTS"]
