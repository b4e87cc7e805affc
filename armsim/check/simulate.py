"""One input of ``armsim simulate`` as a :class:`SimulateResult`: the firmware's outputs
against the host's, by the float rule (within atol + rtol x |host|, the same class) or the
int8 one (every output equal, in quantization steps)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.check import compare
from armsim.check import int8 as Q
from armsim.graph import Graph
from armsim.model.inputs import Case
from armsim.session.results import HostOutputs, SimulateResult


def _labelled(res: SimulateResult, case: Case) -> None:
    if case.label is not None:
        res.label = case.label
        if res.predicted is not None:
            res.correct = res.predicted == case.label


def float_result(case: Case, run: Any, cpu: str, host_out: np.ndarray | None,
                 host_source: str, classifier: bool, tolerance: float,
                 rtol: float) -> SimulateResult:
    """A float model's input: the session's ``run`` result against ``host_out`` (None: no
    host, nothing compared)."""
    res = SimulateResult(case.name, run.predicted, [float(v) for v in run.outputs],
                         run.instructions, cpu)
    _labelled(res, case)
    if host_out is not None:
        cmp = compare.compare(run.outputs, host_out, tolerance, rtol, classify=classifier)
        res.host = HostOutputs(host_source, int(np.argmax(host_out)) if classifier else None,
                               [float(v) for v in host_out])
        res.max_abs_diff, res.max_ulp, res.agree = cmp.max_abs_diff, cmp.max_ulp, cmp.agree
    res.host_source = host_source
    return res


def int8_result(case: Case, run: Any, cpu: str, g: Graph, host_q: np.ndarray,
                host_source: str, classifier: bool, steps_allowed: int = 0) -> SimulateResult:
    """An int8 model's input: the session's integer outputs against the reference's
    ``host_q``, in steps; agreeing when bit-exact (or within ``steps_allowed``, where the
    host is not the reference arithmetic: see cli/int8.host_steps)."""
    eq = run.outputs.astype(g.output_dtype)
    d = Q.steps(eq[np.newaxis], host_q[np.newaxis], Q.output_scale(g))
    res = SimulateResult(case.name, run.predicted, [float(v) for v in Q.dequantize(g, eq)],
                         run.instructions, cpu, outputs_q=[int(v) for v in eq])
    res.host = HostOutputs(host_source, int(np.argmax(host_q)) if classifier else None,
                           [float(v) for v in Q.dequantize(g, host_q)],
                           [int(v) for v in host_q])
    res.max_abs_diff_q, res.max_abs_diff = d.max_q, d.max_real
    res.agree = d.max_q <= steps_allowed
    _labelled(res, case)
    return res
