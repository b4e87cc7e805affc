"""Option groups the commands share, their argument types, and the checks of option
combinations made before any work (each a clear exit 2)."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any

from armsim.check.compare import DEFAULT_TOLERANCE
from armsim.errors import ArmsimError
from armsim.firmware.kernels import DEFAULT_KERNELS, KERNEL_SETS
from armsim.firmware.tflm.library import DEFAULT_KERNELS as TFLM_DEFAULT_KERNELS
from armsim.firmware.tflm.library import KERNEL_SETS as TFLM_KERNEL_SETS
from armsim.model import mnist
from armsim.model.inputs import MNIST_SCALES
from armsim.parts.cpus import CPUS, DEFAULT_OPT, OPT_LEVELS, canonical_cpu
from armsim.parts.mcus import DEFAULT_MCU, MCUS, canonical_mcu
from armsim.plan import LAYOUTS


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
    p.add_argument("--cpu", type=cpu_name, metavar="{" + ",".join(CPUS) + "}",
                   help="CPU variant, any case, with or without cortex- (m0+, m4 = m4f); "
                        "default: the --mcu preset's core; m4f for generic")
    p.add_argument("--mcu", type=mcu_name, metavar="{" + ",".join(MCUS) + "}",
                   help=f"MCU preset: memories and core (default {DEFAULT_MCU}, or the "
                        "emulation-only 'large' when the model does not fit it, said on stderr)")
    if kernels:
        p.add_argument("--kernels", default=None,
                       choices=list(dict.fromkeys((*KERNEL_SETS, *TFLM_KERNEL_SETS))),
                       help=f"kernel set (default {DEFAULT_KERNELS}; with --runtime tflm: "
                            f"TFLM's {' or '.join(TFLM_KERNEL_SETS)}, default "
                            f"{TFLM_DEFAULT_KERNELS})")
        p.add_argument("--opt", default=DEFAULT_OPT, type=opt_level, metavar="LEVEL",
                       help="compiler optimisation level of the build: "
                            f"{', '.join(o[1:] for o in OPT_LEVELS)} (written Os or =-Os; "
                            f"default {DEFAULT_OPT[1:]})")


#: What runs the model: armsim's generated firmware, or TensorFlow Lite Micro itself.
RUNTIMES = ("armsim", "tflm")


def add_runtime(p: argparse.ArgumentParser) -> None:
    """--runtime and --arena."""
    p.add_argument("--runtime", choices=RUNTIMES, default="armsim",
                   help="armsim: the firmware armsim generates from the model (default); "
                        "tflm: TensorFlow Lite Micro with its CMSIS-NN (or reference) kernels "
                        "running the .tflite file itself, op for op (a .keras model is "
                        "converted to a float32 .tflite first)")
    p.add_argument("--arena", type=positive_int, metavar="BYTES",
                   help="--runtime tflm: the tensor arena in bytes (a multiple of 16; default: "
                        "the smallest with which AllocateTensors and Invoke succeed)")


def refuse_with_tflm(args: argparse.Namespace, *names: str) -> None:
    """Exit 2 when an option armsim's own firmware needs is given with --runtime tflm."""
    for n in names:
        v = getattr(args, n, None)
        refuse(bool(v), f"--{n.replace('_', '-')} applies to armsim's own firmware, not to "
               "--runtime tflm (which runs the .tflite file itself)")


def add_host(p: argparse.ArgumentParser) -> None:
    """--host of int8 models."""
    p.add_argument("--host", choices=("tflm", "tflite"), default="tflm",
                   help="int8 models: the host reference: TFLM's integer arithmetic on the host "
                        "(the tflite-micro package; the firmware runs CMSIS-NN everywhere, as "
                        "deployed; default), or the TFLite interpreter (the firmware's dense "
                        "layers then use armsim's double-precision requantization, as the "
                        "interpreter does)")


def resolve_kernels(args: argparse.Namespace) -> None:
    """--kernels by runtime: TFLM's sets (default cmsis-nn) or armsim's (default
    optimized); ``args.kernels_given`` says whether the user chose."""
    if not hasattr(args, "kernels"):
        return
    args.kernels_given = args.kernels is not None
    if getattr(args, "runtime", "armsim") == "tflm":
        refuse(args.kernels not in (None, *TFLM_KERNEL_SETS),
               f"--kernels {args.kernels} is one of armsim's own kernel sets; TFLM's are "
               f"{' and '.join(TFLM_KERNEL_SETS)} (default {TFLM_DEFAULT_KERNELS})")
        args.kernels = args.kernels or TFLM_DEFAULT_KERNELS
    else:
        refuse(getattr(args, "arena", None) is not None,
               "--arena sizes TFLM's tensor arena: it applies with --runtime tflm")
        args.kernels = args.kernels or DEFAULT_KERNELS


_noted: set[str] = set()


def cpu_name(text: str) -> str:
    """--cpu as people write it (``Cortex-M4F``, ``m0+``, ``M4``) -> the variant's name; a
    spelling with a note (``m4``) says it once on stderr."""
    try:
        name, note = canonical_cpu(text)
    except ArmsimError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if note and note not in _noted:
        _noted.add(note)
        print(f"armsim: {note}", file=sys.stderr)
    return name


def mcu_name(text: str) -> str:
    """--mcu in any case (``STM32F407``) -> the preset's name."""
    try:
        return canonical_mcu(text)
    except ArmsimError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def opt_level(text: str) -> str:
    """``Os``, ``-Os`` -> ``-Os`` (argparse would read a bare ``-Os`` as an option)."""
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
                   help="memory plan: 'seed' (the notebook's fixed addresses, weights in "
                        "SRAM), 'natural' (a generated plan), 'auto' (seed when the model is "
                        "the seed architecture with its weights in SRAM, as a script writes "
                        "them; else generated; default)")
    p.add_argument("--base", type=address, help="first SRAM address of a generated plan "
                   "(default: the MCU's SRAM base)")
    p.add_argument("--weights-in", choices=("sram", "flash"),
                   help="weights compiled into flash (.rodata), as firmware ships them "
                        "(default), or in SRAM, written by a µVision script (the default "
                        "with --script, --sources, --layout seed, export and header: the seed "
                        "workflow's hand-written C reads them there)")


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
    p.add_argument("--allow-path", action="append", default=[], metavar="DIR",
                   help="let a script's INCLUDE and LOAD read files inside DIR (repeatable); "
                   "without it they read inside the script's folder and, above it, up to its "
                   "project's root (the nearest folder holding a *.uvprojx, *.uvproj or .git)")


def add_clock(p: argparse.ArgumentParser) -> None:
    """--clock-mhz, --flash-accel, --sram-latency and --dcache: the clock of the estimated
    latency and the memory timing of the cycle estimate."""
    p.add_argument("--clock-mhz", type=positive_float,
                   help="the core clock of the estimated latency (ms), and the part's flash "
                   "wait states at it (default: the part's usual clock, with the flash "
                   "accelerator its vendor's start-up turns on; generic and large: a stated "
                   "nominal clock; --flash-accel off with the reset clock gives a bare-metal "
                   "start-up's reset state)")
    add_flash(p)
    add_data_memory(p)


def add_flash(p: argparse.ArgumentParser) -> None:
    """--flash-accel (with --clock-mhz, the part's flash timing in the cycle estimate)."""
    p.add_argument("--flash-accel", choices=("on", "off"),
                   help="the part's flash accelerator or cache (ART on STM32F4/F7) on or off "
                   "for the cycle estimate (default: its state out of reset); with "
                   "--clock-mhz, the part's wait states come from its table")
    p.add_argument("--icache", choices=("on", "off"),
                   help="a Cortex-M7 part's L1 instruction cache (stm32f746; default: off, "
                   "as out of reset): on, each 32-byte line of code fetched from flash "
                   "misses once, then hits (SCB_EnableICache() in a typical start-up)")


def add_data_memory(p: argparse.ArgumentParser) -> None:
    """--sram-latency and --dcache: the M7's loads from AXI SRAM in the cycle estimate."""
    p.add_argument("--sram-latency", type=non_negative_int, metavar="CYCLES",
                   help="on an M7 part with DTCM and AXI SRAM (stm32f746): extra cycles per "
                   "load from AXI SRAM with the data cache off, as measured on the board "
                   "(default: counted and reported, not costed; no source gives the figure)")
    p.add_argument("--dcache", choices=("on", "off"),
                   help="the M7's L1 data cache (default: off, as out of reset); on: AXI "
                   "SRAM loads cost as cache hits")


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


class _InputFiles(argparse.Action):
    """--inputs, repeatable: one file (a string), or one per model input (a list)."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        have = getattr(namespace, self.dest, None)
        setattr(namespace, self.dest, values if have is None else
                [*(have if isinstance(have, list) else [have]), values])


def add_inputs(p: argparse.ArgumentParser, help_: str) -> None:
    """--inputs FILE, repeatable for a model with several inputs."""
    p.add_argument("--inputs", action=_InputFiles, metavar="FILE", help=help_ + "; a model "
                   "with several inputs: --inputs once per input (its input order), or one "
                   ".npz with an array per input named after it (or x0, x1, ...)")


def add_data(p: argparse.ArgumentParser) -> None:
    """--data and how MNIST pixels are scaled."""
    p.add_argument("--data", help=f"MNIST IDX directory (default ${mnist.ENV_VAR}, else "
                   "../shared/data/mnist beside the checkout)")
    p.add_argument("--mnist-scale", choices=list(MNIST_SCALES), default="seed",
                   help="MNIST preprocessing: seed = (v - 127.5) / 127.5 (the notebook's, "
                        "default), unit = v / 255, raw = v")


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


def refuse(cond: bool, message: str) -> None:
    """An option combination that makes no sense: exit 2 with ``message``."""
    if cond:
        raise ArmsimError(message)
