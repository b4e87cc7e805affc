"""Turning a command's options into the things it works on, once: the model, its plan, the
CPU and MCU (a model too big for the default part runs on 'large', said on stderr), the
Session, the inputs, and the cycle estimate's memory timing."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from armsim.check.validate import plot_confusion
from armsim.cli import options as O
from armsim.errors import ArmsimError, ModelError
from armsim.firmware.build import check_plan_fits
from armsim.firmware.scratch import scratch_sizes
from armsim.firmware.sources import UserSources
from armsim.firmware.tflm import resolver as tflm_resolver
from armsim.firmware.tflm import tree as tflm_tree
from armsim.graph import Graph
from armsim.model import flatbuffer, inputs, tflm_host
from armsim.model.frontends.keras import load as load_keras
from armsim.model.quantize import float_tflite
from armsim.model.frontends.load import load_model as load
from armsim.model.inputs import DEFAULT_MODEL, Case, data_file
from armsim.model.tflite_host import TFLiteHost
from armsim.parts.cpus import CpuVariant, get_cpu
from armsim.parts.flash import Fetch, usual_fetch, with_icache
from armsim.parts.mcus import DEFAULT_MCU, Mcu, get_mcu, resolve_cpu
from armsim.plan import Plan, make_plan
from armsim.report import html as report
from armsim.report.tables import note
from armsim.session.profile import footprint
from armsim.session.session import Session
from armsim.timing.cycles import timing_for
from armsim.timing.datamem import data_timing_for


def apply_data_timing(args: argparse.Namespace, machine: Any) -> None:
    """Set the machine's data-memory timing from --sram-latency and --dcache (exit 2 where
    the part has no TCM/AXI split)."""
    machine.data_timing = data_timing_for(machine.mcu, timing_for(machine.cpu.name).model,
                                          getattr(args, "sram_latency", None),
                                          getattr(args, "dcache", None))


def fetch_timing(args: argparse.Namespace, mcu: Any) -> Any:
    """The flash timing of the cycle estimate and the clock of its latency: --wait-states
    (prefetch on), else the part's default (flash.usual_fetch) at --clock-mhz and
    --flash-accel: by default its usual clock with the accelerator state that goes with it."""
    ws = getattr(args, "wait_states", 0) or 0
    accel = getattr(args, "flash_accel", None)
    clock = getattr(args, "clock_mhz", None)
    if ws:
        O.refuse(accel is not None or getattr(args, "icache", None) is not None,
                 "--wait-states sets the flash timing by hand: leave out --flash-accel and "
                 "--icache")
        return Fetch(ws, "prefetch", 16, f"--wait-states {ws} (prefetch on)",
                     clock or mcu.clock_hz / 1e6)
    return with_icache(usual_fetch(mcu.name, mcu.clock_hz, clock, accel), mcu.name,
                       getattr(args, "icache", None))


def validate_plot(plot: Path | None, res: Any) -> None:
    """validate's --plot: the confusion matrices as a PNG, or a note saying why there are
    none (never dropped silently)."""
    if plot is None:
        return
    if res.confusion_matrix:
        plot_confusion(res, str(plot))
        res.plot = str(plot)
    else:
        note(f"--plot {plot}: not written: no confusion matrix to draw (it needs a classifier "
             "and labelled inputs: MNIST, or an .npz with y)")


def validate_page(page: Path | None, res: Any, s: Any, title: str) -> None:
    """validate's --html page (when asked for) with the session's footprint, named in
    ``res.html``."""
    if page is None:
        return
    report.write(page, report.validate_report(res, title, footprint(s, 0)))
    res.html = str(page)


def peripherals_mode(args: argparse.Namespace) -> bool:
    """True unless --peripherals strict."""
    return getattr(args, "peripherals", "model") == "model"


def user_sources(args: argparse.Namespace, entry: bool = True) -> Any:
    """The --sources of a command as a UserSources, or None."""
    files = getattr(args, "sources", None)
    if not files:
        O.refuse(bool(getattr(args, "include", None) or getattr(args, "cflag", None)),
               "--include and --cflag apply to --sources")
        O.refuse(bool(getattr(args, "output", None)) and not getattr(args, "elf", None),
               "--output applies to --sources or --elf")
        return None

    O.refuse(bool(getattr(args, "elf", None)), "--sources and --elf contradict each other")
    return UserSources(tuple(Path(f) for f in files), tuple(Path(d) for d in args.include),
                       tuple(args.cflag), getattr(args, "entry", None) if entry else None)


# -- resolution -------------------------------------------------------------------------------
def target(args: argparse.Namespace, g: Graph | None = None) -> tuple[CpuVariant, Mcu]:
    """The CPU and MCU preset (a preset implies its core unless --cpu says otherwise).

    With no --mcu, a model that does not fit the default part runs on the emulation-only
    'large' preset, and the user is told so; an explicit --mcu is never changed.
    """
    name = getattr(args, "mcu", None)
    if name is None:
        name = DEFAULT_MCU
        if g is not None:
            default = get_mcu(DEFAULT_MCU)
            cpu = get_cpu(resolve_cpu(default, getattr(args, "cpu", None)))
            plan = plan_for(args, g, default, cpu)  # a bad plan request is the user's error
            try:
                check_plan_fits(plan, default)
            except ArmsimError as e:
                name = "large"

                note(f"{str(e).split(': ', 1)[-1].split(';')[0]} on '{DEFAULT_MCU}': running on "
                     "the emulation-only preset 'large' (give --mcu to choose a part)")
    mcu = get_mcu(name)
    return with_opt(args, get_cpu(resolve_cpu(mcu, getattr(args, "cpu", None)))), mcu


def with_opt(args: argparse.Namespace, cpu: CpuVariant) -> CpuVariant:
    """The CPU variant at the command's --opt level."""
    return cpu.with_opt(getattr(args, "opt", None))


@dataclass
class ModelRef:
    """A loaded model: its graph, the Keras model (the host), where it came from."""

    graph: Graph
    keras: Any
    path: str


def load_model(args: argparse.Namespace, default: bool = True) -> ModelRef | None:
    """--model (or the bundled one when ``default``), refused before any work if unsupported."""
    path = getattr(args, "model", None)
    if not path:
        if not default:
            return None
        path = str(data_file(DEFAULT_MODEL))
    try:
        g, k = load(path, getattr(args, "trust_model", False))
    except ModelError as e:
        hint = tflm_hint(e, path, getattr(args, "trust_model", False))
        if not hint:
            raise
        raise ModelError(f"{e}\n{hint}", e.unsupported, e.kind) from None
    return ModelRef(g, k, path)


def tflm_hint(e: ModelError, path: str, trust: bool = False) -> str:
    """Whether ``--runtime tflm`` would run a model armsim's firmware refused, asked of TFLM's
    own resolver (the pinned tree's ``MicroMutableOpResolver``): for a .tflite, about each
    refused operator; for a Keras model, about every operator of the float32 file
    TFLiteConverter makes of it (as ``--runtime tflm`` would)."""
    if not e.unsupported or e.kind not in ("tflite", "keras"):
        return ""
    try:
        found = tflm_tree.locate(required=False)
        regs = tflm_resolver.registrations(found) if found is not None else None
    except (ArmsimError, OSError):
        regs = None
    if regs is None:
        return ""
    if e.kind == "keras":
        try:
            data = float_tflite(load_keras(path, trust))
            ops = flatbuffer.read(data, Path(path).with_suffix(".tflite")).op_types()
        except ArmsimError as conv:
            return f"--runtime tflm cannot run it either: {conv}"
        what = f"the float32 .tflite TFLiteConverter makes of {Path(path).name}"
    else:
        ops = [(op[len("CUSTOM ("):-1], True) if op.startswith("CUSTOM (") else (op, False)
               for op in e.unsupported]
        what = "this model"
    missing = sorted({op for op, c in ops if regs.method(op, c) is None})
    if missing:
        return (f"--runtime tflm cannot run {what} either: TensorFlow Lite Micro has no "
                f"kernel for {', '.join(missing)}")
    return (f"--runtime tflm runs {what}: TensorFlow Lite Micro has a kernel for every "
            "operator in it; try `--runtime tflm`")


def plan_for(args: argparse.Namespace, g: Graph, mcu: Mcu,
             cpu: CpuVariant | None = None, weights_default: str | None = None) -> Plan:
    """The plan chosen by --layout, --base and --weights-in (an int8 plan's scratch depends
    on the CPU). Without --weights-in the weights are in flash, as deployed, except where a
    script writes them (--script, and ``weights_default`` "sram" for export), for your own
    C (--sources: hand-written code reads them where the seed workflow's script writes
    them) and in the seed layout."""
    scratch = scratch_sizes(g, cpu or "m4f") if g.quantized else None
    weights = getattr(args, "weights_in", None) or weights_default or (
        "sram" if getattr(args, "script", None) or getattr(args, "sources", None) else None)
    return make_plan(g, getattr(args, "layout", "auto"), getattr(args, "base", None),
                     weights, mcu.sram_base, scratch=scratch)


def kernels_for(args: argparse.Namespace, g: Graph) -> str:
    """The kernel set of a model: --kernels, else for an int8 model CMSIS-NN everywhere, dense
    layers included (TFLM's arithmetic, as deployed), or with ``--host tflite`` armsim's
    double-precision dense kernel (the TFLite interpreter's, bit for bit); else optimized."""
    chosen = getattr(args, "kernels", None)
    if g.quantized and not getattr(args, "kernels_given", chosen is not None):
        path = getattr(args, "model", None)
        host = int8_host(args, path) if path else getattr(args, "host", "tflm")
        return "optimized" if host == "tflite" else "cmsis-nn"
    return chosen or "optimized"


def int8_host(args: argparse.Namespace, path: Any) -> str:
    """Which host an int8 model is checked against, decided once per command (the kernels
    follow it): "tflm" (TFLM on the host), or "tflite" (the TFLite interpreter) with
    ``--host tflite``, or where TFLM cannot run the file (the tflite-micro package missing,
    an operator or form TFLM refuses), said on stderr."""
    decided = getattr(args, "_int8_host", None)
    if decided is not None:
        return decided
    kind = "tflite" if getattr(args, "host", "tflm") == "tflite" else "tflm"
    if kind == "tflm":
        why = tflm_host.available()
        if why is None:
            try:
                tflm_host.check(flatbuffer.load(Path(path)))
            except ArmsimError as e:
                why = str(e)
        if why is not None:
            note(f"{why}: the TFLite interpreter is the host instead (an int8 model's "
                 "dense layers then take its double-precision arithmetic in the firmware)")
            kind = "tflite"
    args._int8_host = kind
    return kind


def int8_reference(args: argparse.Namespace, path: Any, g: Graph
                   ) -> tuple[Any, Any | None]:
    """(the host reference of an int8 model, the TFLite interpreter beside it or None):
    TFLM on the host (the tflite-micro package), or with ``--host tflite`` (or where that
    package does not import, said on stderr) the TFLite interpreter alone."""
    if int8_host(args, path) == "tflite":
        return TFLiteHost(path, g), None
    try:
        second: Any = TFLiteHost(path, g)
    except ArmsimError:  # the interpreter refuses a file TFLM runs
        second = None
    return tflm_host.TflmGraphHost(path, g), second


def session(args: argparse.Namespace, g: Graph, plan: Plan, cpu: CpuVariant, mcu: Mcu,
            load_weights: bool = True) -> Any:
    """A Session with the command's kernels, limits and ELF, its runs' cycles estimated with
    the command's flash set-up and clock (and the M7's data-memory timing)."""
    fetch = fetch_timing(args, mcu)
    s = Session(g, plan, cpu, mcu, kernels_for(args, g),
                getattr(args, "max_instructions", None), getattr(args, "timeout", None),
                getattr(args, "elf", None), load_weights=load_weights,
                sources=user_sources(args), output=getattr(args, "output", None))
    s.fetch = fetch
    apply_data_timing(args, s.machine)
    return s


@dataclass
class ModelRun:
    """A model ready to run: graph, host, target, plan, session and its script buffers."""

    graph: Graph
    keras: Any
    cpu: CpuVariant
    mcu: Mcu
    plan: Plan
    session: Any
    memory: dict[str, np.ndarray]


def model_run(args: argparse.Namespace, ref: ModelRef | None = None,
              cpu_name: str | None = None) -> ModelRun:
    """--model (or the bundled one) on its target, its weights written: the non-script path
    of simulate, validate and profile."""
    ref = ref or load_model(args)
    assert ref is not None
    cpu, mcu = target(args, ref.graph)
    if cpu_name is not None:
        cpu = with_opt(args, get_cpu(cpu_name))
    plan = plan_for(args, ref.graph, mcu, cpu)
    s = session(args, ref.graph, plan, cpu, mcu)
    return ModelRun(ref.graph, ref.keras, cpu, mcu, plan, s, plan.pack(plan.constant_tensors()))


def cases(args: argparse.Namespace, g: Graph) -> tuple[list[Case], str]:
    """The inputs of simulate/profile: --inputs, --image (MNIST), or the bundled digits."""
    return inputs.cases(g, getattr(args, "inputs", None), getattr(args, "image", None),
                        getattr(args, "data", None), getattr(args, "mnist_scale", "seed"))


