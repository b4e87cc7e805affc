"""What every command shares: option groups, their checks, and resolving the model, the
plan, the target and the inputs once."""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from armsim import __version__
from armsim.model import mnist
from armsim.check.compare import DEFAULT_TOLERANCE
from armsim.parts.cpus import CPUS, CpuVariant, get_cpu
from armsim.errors import ArmsimError, DataError, ScriptError
from armsim.graph import Graph
from armsim.parts.mcus import DEFAULT_MCU, MCUS, Mcu, get_mcu, resolve_cpu
from armsim.firmware.scratch import scratch_sizes
from armsim.plan import LAYOUTS, Plan, make_plan

EXIT_OK, EXIT_MISMATCH, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_MODEL = "default_model.keras"
DIGITS = "digits.npz"
#: How MNIST pixels v (0..255) become model inputs.
MNIST_SCALES = {"seed": "(v - 127.5) / 127.5", "unit": "v / 255", "raw": "v"}


def data_file(name: str) -> Path:
    """A file bundled in armsim/data."""
    return Path(str(resources.files("armsim") / "data" / name))


# -- argument types ---------------------------------------------------------------------------
def _number(convert: type, strict: bool) -> Any:
    """An argparse type: a finite number > 0 (``strict``) or >= 0."""
    what = "an integer" if convert is int else "a number"
    bound = "must be positive" if strict else "must be 0 or more"
    if convert is float:
        bound = "must be a positive number" if strict else bound

    def parse(text: str) -> Any:
        try:
            v = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(v) or v < 0 or (strict and v == 0):
            raise argparse.ArgumentTypeError(f"{bound}, got {text}")
        return v

    parse.__name__ = f"{'positive' if strict else 'non_negative'}_{convert.__name__}"
    return parse


positive_int = _number(int, strict=True)
non_negative_int = _number(int, strict=False)
positive_float = _number(float, strict=True)
non_negative_float = _number(float, strict=False)


def address(text: str) -> int:
    """An address: decimal or 0x hex, 32-bit."""
    try:
        v = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an address like 0x20000000, got {text!r}") \
            from None
    if not 0 <= v < 1 << 32:
        raise argparse.ArgumentTypeError(f"{text} is not a 32-bit address")
    return v


# -- option groups ----------------------------------------------------------------------------
def add_target(p: argparse.ArgumentParser, kernels: bool = True) -> None:
    """--cpu, --mcu, --kernels."""
    from armsim.firmware.kernels import DEFAULT_KERNELS, KERNEL_SETS

    p.add_argument("--cpu", choices=list(CPUS),
                   help="CPU variant (default: the --mcu preset's core; m4f for generic)")
    p.add_argument("--mcu", choices=list(MCUS),
                   help=f"MCU preset: memories and core (default {DEFAULT_MCU}, or the "
                        "emulation-only 'large' when the model does not fit it, said on stderr)")
    if kernels:
        from armsim.parts.cpus import DEFAULT_OPT, OPT_LEVELS

        p.add_argument("--kernels", default=DEFAULT_KERNELS, choices=KERNEL_SETS,
                       help=f"kernel set (default {DEFAULT_KERNELS})")
        p.add_argument("--opt", default=DEFAULT_OPT, type=opt_level, metavar="LEVEL",
                       help="compiler optimisation level of the build: "
                            f"{', '.join(o[1:] for o in OPT_LEVELS)} (written Os or =-Os; "
                            f"default {DEFAULT_OPT[1:]})")


def opt_level(text: str) -> str:
    """``Os``, ``-Os`` -> ``-Os`` (argparse would read a bare ``-Os`` as an option)."""
    from armsim.parts.cpus import OPT_LEVELS

    level = text if text.startswith("-") else f"-{text}"
    if level not in OPT_LEVELS:
        raise argparse.ArgumentTypeError(f"unknown optimisation level {text!r}; one of "
                                         f"{', '.join(o[1:] for o in OPT_LEVELS)}")
    return level


def add_model(p: argparse.ArgumentParser, positional: bool = False, help_: str = "") -> None:
    """The model and how its memory is planned."""
    text = help_ or ".keras model (default: the bundled seed CNN)"
    if positional:
        p.add_argument("model", help=text)
    else:
        p.add_argument("--model", help=text)
    p.add_argument("--trust-model", action="store_true",
                   help="load legacy .h5 files and models that need safe_mode off (they can "
                        "run code: only for files you trust)")
    p.add_argument("--layout", choices=LAYOUTS, default="auto",
                   help="memory plan: 'seed' (the notebook's fixed addresses), 'natural' (a "
                        "generated plan), 'auto' (seed when the model is the seed "
                        "architecture; default)")
    p.add_argument("--base", type=address, help="first SRAM address of a generated plan "
                   "(default: the MCU's SRAM base)")
    p.add_argument("--weights-in", choices=("sram", "flash"), default="sram",
                   help="weights in SRAM, written by a script (default), or compiled into "
                        "flash (.rodata), as deployments ship them")


def add_elf_no_host(p: argparse.ArgumentParser) -> None:
    """--elf (a firmware built already) and --no-host (a script with no host model)."""
    p.add_argument("--elf", help="run this ELF instead of building the firmware (it must be "
                   "built for the same plan)")
    p.add_argument("--no-host", action="store_true", help="with --script and no --model: skip "
                   "the host comparison (neither TensorFlow nor Keras is loaded)")


def add_script_options(p: argparse.ArgumentParser) -> None:
    """How a --script's set-up treats memory the MCU preset does not map, and its LOG files."""
    p.add_argument("--peripherals", choices=("model", "strict"), default="model",
                   help="model (default): a script's accesses to peripheral, external and "
                   "system space the MCU preset does not map go to unmodelled-peripheral "
                   "memory (reads return what was written, or 0) and are summarised; strict: "
                   "they fault")
    p.add_argument("--log-dir", metavar="DIR", help="write the files a script's LOG/SLOG/"
                   "ITMLOG commands name into DIR (by base name); default: kept in the report")


def script_log(args: argparse.Namespace, log: Any, label: str,
               show_warnings: bool = True) -> list[str]:
    """Show a script run's notes, peripheral summary and (unless the caller shows them with
    its own) warnings on stderr, write its LOG files under --log-dir; the warnings, prefixed
    with ``label``."""
    from armsim.report import tables as render

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


def add_flash(p: argparse.ArgumentParser) -> None:
    """--flash-accel (with --clock-mhz, the part's flash timing in the cycle estimate)."""
    p.add_argument("--flash-accel", choices=("on", "off"),
                   help="the part's flash accelerator or cache (ART on STM32F4/F7) on or off "
                   "for the cycle estimate (default: its state out of reset); with "
                   "--clock-mhz, the part's wait states come from its table")


def add_data_memory(p: argparse.ArgumentParser) -> None:
    """--sram-latency and --dcache: the M7's loads from AXI SRAM in the cycle estimate."""
    p.add_argument("--sram-latency", type=non_negative_int, metavar="CYCLES",
                   help="on an M7 part with DTCM and AXI SRAM (stm32f746): extra cycles per "
                   "load from AXI SRAM with the data cache off, as measured on the board "
                   "(default: counted and reported, not costed; no source gives the figure)")
    p.add_argument("--dcache", choices=("on", "off"),
                   help="the M7's L1 data cache (default: off, as out of reset); on: AXI "
                   "SRAM loads cost as cache hits")


def apply_data_timing(args: argparse.Namespace, machine: Any) -> None:
    """Set the machine's data-memory timing from --sram-latency and --dcache (exit 2 where
    the part has no TCM/AXI split)."""
    from armsim.timing.cycles import timing_for
    from armsim.timing.datamem import data_timing_for

    machine.data_timing = data_timing_for(machine.mcu, timing_for(machine.cpu.name).model,
                                          getattr(args, "sram_latency", None),
                                          getattr(args, "dcache", None))


def fetch_timing(args: argparse.Namespace, mcu: Any) -> Any:
    """The flash timing of the cycle estimate: --wait-states (prefetch on), else the MCU
    preset's table at --clock-mhz (default: its reset clock) and --flash-accel."""
    from armsim.parts.flash import FLASH, Fetch, fetch_for

    ws = getattr(args, "wait_states", 0) or 0
    accel = getattr(args, "flash_accel", None)
    clock = getattr(args, "clock_mhz", None)
    if ws:
        refuse(accel is not None, "--wait-states sets the flash timing by hand: leave out "
               "--flash-accel")
        return Fetch(ws, "prefetch", 16, f"--wait-states {ws} (prefetch on)")
    if mcu.name not in FLASH:
        refuse(accel is not None, f"--flash-accel: MCU preset '{mcu.name}' has no flash "
               f"timing table (parts with one: {', '.join(sorted(FLASH))})")
        return Fetch(0, "prefetch", 16, f"{mcu.name}: no flash wait states")
    return fetch_for(mcu.name, clock, accel)


def peripherals_mode(args: argparse.Namespace) -> bool:
    """True unless --peripherals strict."""
    return getattr(args, "peripherals", "model") == "model"


def check_no_host(args: argparse.Namespace) -> None:
    """--no-host needs a script and excludes a model."""
    refuse(args.no_host and not args.script, "--no-host only applies with --script")
    refuse(args.no_host and bool(args.model), "--no-host and --model contradict each other")


def add_sources(p: argparse.ArgumentParser, model: bool = True) -> None:
    """--sources and how to build them."""
    p.add_argument("--sources", nargs="+", metavar="FILE",
                   help="your own C files, built with armsim's start-up code and linker "
                        "script for the CPU and MCU" + (" (and the plan's layout: include "
                        "model_layout.h); they provide the --entry function" if model else ""))
    p.add_argument("--include", action="append", default=[], metavar="DIR",
                   help="with --sources: an include folder (repeatable)")
    p.add_argument("--cflag", action="append", default=[], metavar="FLAG",
                   help="with --sources: an extra compiler flag, e.g. --cflag=-DNDEBUG "
                        "(repeatable)")
    if model:
        p.add_argument("--entry", default="network_run", metavar="FUNCTION",
                       help="with --sources: the function that runs the network (default "
                            "network_run)")
        p.add_argument("--output", metavar="SYMBOL|ADDRESS[:COUNT[:TYPE]]",
                       help="where your code leaves the result (default: a float array named "
                            "'output' of the model's output size)")


def user_sources(args: argparse.Namespace, entry: bool = True) -> Any:
    """The --sources of a command as a UserSources, or None."""
    files = getattr(args, "sources", None)
    if not files:
        refuse(bool(getattr(args, "include", None) or getattr(args, "cflag", None)),
               "--include and --cflag apply to --sources")
        refuse(bool(getattr(args, "output", None)) and not getattr(args, "elf", None),
               "--output applies to --sources or --elf")
        return None
    from armsim.firmware.sources import UserSources

    refuse(bool(getattr(args, "elf", None)), "--sources and --elf contradict each other")
    return UserSources(tuple(Path(f) for f in files), tuple(Path(d) for d in args.include),
                       tuple(args.cflag), getattr(args, "entry", None) if entry else None)


def add_limits(p: argparse.ArgumentParser) -> None:
    """Instruction budget and time limit (default: scaled with the model's MACs)."""
    p.add_argument("--max-instructions", type=positive_int,
                   help="instruction budget per run (default: scaled with the model's MACs "
                        "and the CPU)")
    p.add_argument("--timeout", type=positive_float,
                   help="wall-clock limit per run in seconds (default: scaled like the budget)")


def add_tolerances(p: argparse.ArgumentParser) -> None:
    """--atol/--tolerance and --rtol."""
    p.add_argument("--tolerance", "--atol", type=non_negative_float, default=DEFAULT_TOLERANCE,
                   dest="tolerance", help="absolute tolerance per output (default 1e-5)")
    p.add_argument("--rtol", type=non_negative_float, default=1e-5,
                   help="relative tolerance per output, added to the absolute: |emu - host| "
                        "<= atol + rtol * |host| (default 1e-5)")


def add_data(p: argparse.ArgumentParser) -> None:
    """--data and how MNIST pixels are scaled."""
    p.add_argument("--data", help=f"MNIST IDX directory (default ${mnist.ENV_VAR}, else "
                   "../shared/data/mnist beside the checkout)")
    p.add_argument("--mnist-scale", choices=list(MNIST_SCALES), default="seed",
                   help="MNIST preprocessing: seed = (v - 127.5) / 127.5 (the notebook's, "
                        "default), unit = v / 255, raw = v")


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
            from armsim.firmware.build import check_plan_fits

            default = get_mcu(DEFAULT_MCU)
            cpu = get_cpu(resolve_cpu(default, getattr(args, "cpu", None)))
            plan = plan_for(args, g, default, cpu)  # a bad plan request is the user's error
            try:
                check_plan_fits(plan, default)
            except ArmsimError as e:
                name = "large"
                from armsim.report.tables import note

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
    from armsim.model.frontends import load_model as load

    path = getattr(args, "model", None)
    if not path:
        if not default:
            return None
        path = str(data_file(DEFAULT_MODEL))
    g, k = load(path, getattr(args, "trust_model", False))
    if len(g.inputs) != 1:
        raise ArmsimError(f"{path}: the model has {len(g.inputs)} inputs "
                          f"({', '.join(g.inputs)}); the commands feed one input tensor "
                          "(the library's Session can write each input buffer itself)")
    return ModelRef(g, k, path)


def plan_for(args: argparse.Namespace, g: Graph, mcu: Mcu,
             cpu: CpuVariant | None = None) -> Plan:
    """The plan chosen by --layout, --base and --weights-in (an int8 plan's scratch depends
    on the CPU)."""
    scratch = scratch_sizes(g, cpu or "m4f") if g.quantized else None
    return make_plan(g, getattr(args, "layout", "auto"), getattr(args, "base", None),
                     getattr(args, "weights_in", "sram"), mcu.sram_base, scratch=scratch)


def session(args: argparse.Namespace, g: Graph, plan: Plan, cpu: CpuVariant, mcu: Mcu,
            load_weights: bool = True) -> Any:
    """A Session with the command's kernels, limits and ELF."""
    from armsim.session.session import Session

    return Session(g, plan, cpu, mcu, getattr(args, "kernels", "optimized"),
                   getattr(args, "max_instructions", None), getattr(args, "timeout", None),
                   getattr(args, "elf", None), load_weights=load_weights,
                   sources=user_sources(args), output=getattr(args, "output", None))


@dataclass
class Case:
    """One input: a name, its label if known, the array in the model's input shape."""

    name: str
    label: int | None
    x: np.ndarray


def load_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ten bundled MNIST test digits: images, labels, indices."""
    with np.load(data_file(DIGITS)) as z:
        return z["images"], z["labels"], z["indices"]


def mnist_scale(images: np.ndarray, how: str) -> np.ndarray:
    """uint8 images (N, 28, 28) -> model inputs (N, 28, 28, 1) by --mnist-scale."""
    x = np.asarray(images).astype(np.float32)
    if how == "seed":
        return mnist.scale(images)
    if how == "unit":
        x = x / np.float32(255.0)
    return x[..., np.newaxis]


def is_mnist_shaped(g: Graph) -> bool:
    """True for a one-input model taking 28x28x1 (MNIST is its default input)."""
    return len(g.inputs) == 1 and g.tensors[g.inputs[0]].shape in ((28, 28, 1), (28, 28))


def read_inputs(path: str, g: Graph) -> tuple[np.ndarray, np.ndarray | None]:
    """Inputs (N, *input shape) from .npy or .npz (keys x or inputs, optional y labels)."""
    from armsim.session.session import check_input

    p = Path(path)
    if p.is_dir() or not p.exists():
        raise DataError(f"--inputs {p}: {'is a directory' if p.is_dir() else 'not found'}")
    try:
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                keys = list(z.keys())
                key = next((k for k in ("x", "inputs", "X") if k in keys),
                           keys[0] if len(keys) == 1 else None)
                if key is None:
                    raise DataError(f"--inputs {p}: an .npz needs an array named 'x' (and "
                                    f"optionally 'y'); it has {keys}")
                x = z[key]
                y = z["y"] if "y" in keys else None
        else:
            x, y = np.load(p, allow_pickle=False), None
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"--inputs {p}: cannot read: {e}") from None
    shape = g.tensors[g.inputs[0]].shape
    if x.shape == shape:
        x = x[np.newaxis]
    if x.shape[1:] != shape:
        raise DataError(f"--inputs {p}: arrays of shape {x.shape[1:]} (file {x.shape}); the "
                        f"model's input is {shape} (one input per row)")
    if len(x) == 0:
        raise DataError(f"--inputs {p}: holds no inputs")
    if g.quantized:  # int8 rows are used as they are; float rows get quantized later
        if x.dtype != np.int8 and not np.issubdtype(x.dtype, np.floating):
            raise DataError(f"--inputs {p}: dtype {x.dtype}; an int8 model takes int8 inputs "
                            "(already quantized) or float inputs (quantized with the model's "
                            "input scale)")
        if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
            raise DataError(f"--inputs {p}: holds NaN or infinity")
        rows = x
    else:
        rows = np.stack([check_input(g, row, f"--inputs {p}[{i}]")
                         for i, row in enumerate(x)])
    if y is not None:
        y = np.asarray(y).reshape(-1)
        if len(y) != len(rows):
            raise DataError(f"--inputs {p}: {len(rows)} inputs but {len(y)} labels")
        y = y.astype(np.int64)
    return rows, y


def cases(args: argparse.Namespace, g: Graph) -> tuple[list[Case], str]:
    """The inputs of simulate/profile: --inputs, --image (MNIST), or the bundled digits."""
    images = getattr(args, "image", None)
    if isinstance(images, int):
        images = [images]
    if getattr(args, "inputs", None):
        if images:
            raise ArmsimError("--inputs and --image both choose inputs: give one")
        x, y = read_inputs(args.inputs, g)
        return ([Case(f"{Path(args.inputs).name}[{i}]", None if y is None else int(y[i]), row)
                 for i, row in enumerate(x)], f"from {args.inputs}, used as given")
    if not is_mnist_shaped(g):
        shape = g.tensors[g.inputs[0]].shape
        raise ArmsimError(f"model '{g.name}' takes inputs of shape {shape}, not MNIST images: "
                          "give --inputs X.npy (one input per row)")
    shape = g.tensors[g.inputs[0]].shape
    how = getattr(args, "mnist_scale", "seed")
    prep = f"MNIST pixels v scaled {MNIST_SCALES[how]}"
    if images:
        split = mnist.load("test", args.data or _shared_mnist())
        out = []
        for i in images:
            if not 0 <= i < len(split.images):
                raise DataError(f"--image {i} is out of range 0..{len(split.images) - 1}")
            x = mnist_scale(split.images[i:i + 1], how)[0].reshape(shape)
            out.append(Case(f"test #{i}", int(split.labels[i]), x))
        return out, prep
    imgs, labels, idx = load_digits()
    xs = mnist_scale(imgs, how)
    return ([Case(f"test #{int(i)}", int(lab), x.reshape(shape))
             for x, lab, i in zip(xs, labels, idx)], prep + " (bundled test digits)")


def _shared_mnist() -> str | None:
    """The MNIST directory when neither --data nor the variable names one: ../shared beside
    the checkout, if it is there (said in the error otherwise)."""
    if os.environ.get(mnist.ENV_VAR):
        return None
    here = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
    return str(here) if here.is_dir() else None


def check_output(path: str | None, suffixes: tuple[str, ...], what: str) -> Path | None:
    """An output file path checked before any work: folder exists, writable, right suffix."""
    if not path:
        return None
    p = Path(path)
    if p.is_dir():
        raise ArmsimError(f"{what} {p}: is a directory; give a file name")
    if suffixes and p.suffix.lower() not in suffixes:
        raise ArmsimError(f"{what} {p}: expected a {' or '.join(suffixes)} file")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ArmsimError(f"{what} {p}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise ArmsimError(f"{what} {p}: not writable")
    return p


def versions(cpu: CpuVariant | None = None, host: bool = True) -> dict[str, str]:
    """Versions of armsim, the engine, the CPU model and (when loaded) Keras/TensorFlow."""
    import platform
    import sys

    from armsim.machine.engine import engine_build

    out = {"armsim": __version__, "unicorn": str(engine_build()),
           "python": platform.python_version()}
    if cpu is not None:
        out["cpu_model"] = f"{cpu.title} (Unicorn UC_CPU_ARM model {cpu.uc_cpu})"
        out["compiler_flags"] = " ".join(cpu.all_flags)
    from armsim.firmware import cmsis

    out["cmsis_nn"] = cmsis.version() or "not found"
    if host and "keras" in sys.modules:
        import keras
        import tensorflow as tf

        out.update(keras=keras.__version__, tensorflow=tf.__version__)
    return out


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


# -- scripts ----------------------------------------------------------------------------------
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
    from armsim.plan.seed import MAX_FILTERS, infer_filters, seed_graph, seed_plan
    from armsim.script.parser import parse_program
    from armsim.script.check import tensors
    from armsim.script.target import run_on_session

    program = parse_program(args.script)
    ref = load_model(args, default=False)
    if ref is not None:
        cpu, mcu = target(args, ref.graph)
        if cpu_name is not None:
            cpu = with_opt(args, get_cpu(cpu_name))
        g, plan = ref.graph, plan_for(args, ref.graph, mcu, cpu)
    else:
        cpu, mcu = target(args)
        f = getattr(args, "filters", None) or infer_filters(program.literal_writes())
        g = seed_graph(f or MAX_FILTERS)
        plan = seed_plan(g)
    if cpu_name is not None:
        cpu = with_opt(args, get_cpu(cpu_name))
    s = session(args, g, plan, cpu, mcu, load_weights=False)
    try:
        log = run_on_session(s, program, getattr(args, "allow_outside_layout", False),
                             peripherals=peripherals_mode(args))
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
    x = plan.input.unpack(memory[plan.input.name])
    host, rebuilt = None, False
    if ref is not None:
        host = ref.keras
    elif not no_host:
        from armsim.model.train import seed_model_from

        host = seed_model_from({b.name: b.unpack(memory[b.name]) for b in plan
                                if b.role != "input"})
        rebuilt = True
    return ScriptSetup(g, plan, s, log, memory, x, cpu, host, rebuilt,
                       ref.path if ref is not None else None, warnings)


def refuse(cond: bool, message: str) -> None:
    """An option combination that makes no sense: exit 2 with ``message``."""
    if cond:
        raise ArmsimError(message)

