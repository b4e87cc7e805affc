"""A script's set-up for the commands that take ``--script``: run it on the firmware of its
plan (the ``--model``'s, or the seed layout with F inferred from the script), read the plan's
buffers from what it wrote, and tell the user what the run noted."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from armsim.cli import common as C
from armsim.errors import ScriptError
from armsim.graph import Graph
from armsim.model.train import seed_model_from
from armsim.parts.cpus import CpuVariant, get_cpu
from armsim.plan import Plan
from armsim.plan.seed import MAX_FILTERS, infer_filters, seed_graph, seed_plan
from armsim.report import tables as render
from armsim.script.check import tensors
from armsim.script.parser import parse_program
from armsim.script.target import run_on_session


def script_log(args: argparse.Namespace, log: Any, label: str,
               show_warnings: bool = True) -> list[str]:
    """Show a script run's notes, peripheral summary and (unless the caller shows them with
    its own) warnings on stderr, write its LOG files under --log-dir; the warnings, prefixed
    with ``label``."""
    for n in log.notes:
        render.note(f"{label}: {n}")
    for p in log.peripherals:
        render.note(f"{label}: unmodelled peripherals: {p}")
    for w in log.warnings if show_warnings else []:
        render.note(f"{label}: warning: {w}")
    write_logs(args, log.logs)
    return [f"{label}: {w}" for w in log.warnings]


def write_logs(args: argparse.Namespace, logs: dict[str, str]) -> list[str]:
    """Write LOG files (by base name) into --log-dir when given; the paths written."""
    out_dir = getattr(args, "log_dir", None)
    if not out_dir or not logs:
        return []
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in logs.items():
        p = d / Path(name.replace("\\", "/")).name
        p.write_text(text)
        written.append(str(p))
    return written


@dataclass
class ScriptSetup:
    """A script's set-up run on the emulator, and what it means for the host side."""

    graph: Graph
    plan: Plan
    session: Any
    log: Any
    memory: dict[str, np.ndarray]
    x: np.ndarray
    cpu: CpuVariant
    host: Any
    host_rebuilt: bool
    model_path: str | None
    #: the script run's warnings, each prefixed with the script's path
    warnings: list[str] = field(default_factory=list)


def script_setup(args: argparse.Namespace, no_host: bool = False,
                 cpu_name: str | None = None, show_warnings: bool = True) -> ScriptSetup:
    """Run a script's set-up on the firmware of its plan (the --model's, or the seed layout
    with F inferred from the script) and read the plan's buffers from what it wrote.

    The script's own problems (syntax, a missing LOAD file, an unmapped address) are found
    before layout questions such as the filter count.
    """
    program = parse_program(args.script)
    ref = C.load_model(args, default=False)
    if ref is not None:
        cpu, mcu = C.target(args, ref.graph)
        if cpu_name is not None:
            cpu = C.with_opt(args, get_cpu(cpu_name))
        g, plan = ref.graph, C.plan_for(args, ref.graph, mcu, cpu)
    else:
        cpu, mcu = C.target(args)
        f = getattr(args, "filters", None) or infer_filters(program.literal_writes())
        g = seed_graph(f or MAX_FILTERS)
        plan = seed_plan(g)
    if cpu_name is not None:
        cpu = C.with_opt(args, get_cpu(cpu_name))
    s = C.session(args, g, plan, cpu, mcu, load_weights=False)
    try:
        log = run_on_session(s, program, getattr(args, "allow_outside_layout", False),
                             peripherals=C.peripherals_mode(args))
    except ScriptError as e:
        if ref is not None or "plan" not in e.reason:
            raise
        raise ScriptError(e.reason + "; with no --model the script is read as the seed "
                          "layout: pass --model M.keras to check it against that model's plan",
                          e.file, e.line, e.col, e.text) from None
    warnings = script_log(args, log, args.script, show_warnings)
    if len(log.writes) == 0:
        raise ScriptError("the script writes no memory (no _WFLOAT, _WDWORD, ... ran): "
                          "nothing to simulate", args.script)
    if ref is None and not getattr(args, "filters", None) and \
            infer_filters(program.literal_writes()) is None:
        raise ScriptError("cannot tell the seed layout's number of conv filters from the "
                          "script's conv weights; pass --filters F, or --model M.keras for "
                          "any other plan", args.script)
    memory = tensors(log.writes, plan)
    x = plan.read_input(memory)
    host, rebuilt = None, False
    if ref is not None:
        host = ref.keras
    elif not no_host:
        host = seed_model_from({b.name: b.unpack(memory[b.name]) for b in plan
                                if b.role != "input"})
        rebuilt = True
    return ScriptSetup(g, plan, s, log, memory, x, cpu, host, rebuilt,
                       ref.path if ref is not None else None, warnings)
