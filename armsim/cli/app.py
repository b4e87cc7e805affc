"""The ``armsim`` command: the parser of every subcommand and the entry point.

Exit status (every command, :data:`armsim.errors.EXIT_OK` and friends): 0 every check
passed; 1 a check failed (a disagreement, a firmware fault, a budget or time limit, a
memory-check finding); 2 bad input or usage (always a message, never a traceback).
``armsim run`` returns the firmware's own semihosting exit status when it exits that way.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from armsim import __version__
from armsim.cli import (
    build,
    export,
    header,
    plan,
    profile,
    quantize,
    regress,
    run,
    script,
    simulate,
    sweep,
    train,
    validate,
)
from armsim.cli.options import resolve_kernels
from armsim.errors import EXIT_BAD_INPUT, ArmsimError
from armsim.machine.engine import engine_build
from armsim.script.paths import allowed

COMMANDS = (train, quantize, export, plan, header, build, simulate, validate, profile, run,
            sweep, regress, script)

DESCRIPTION = """\
Check that a neural network's C inference code on an Arm Cortex-M gives the same answers as
the Keras model it came from, and what it costs: any Keras model of the common layers is
turned into firmware, run in the Unicorn emulator with exact instruction counts, and
compared with Keras output by output.
"""

EXIT_STATUS = ("exit status: 0 every check passed; 1 a check failed (a disagreement, a firmware "
               "fault, a budget or time limit, a memory-check finding); 2 bad input or usage "
               "(a message, never a traceback).")
RUN_STATUS = " The firmware's own semihosting exit status when it exits that way."

EPILOG = """\
exit status (every command):
  0  every check passed
  1  a check failed: a disagreement, a firmware fault, a budget or time limit, a
     memory-check finding
  2  bad input or usage (a message, never a traceback)
  `armsim run` returns the firmware's own semihosting exit status when it exits that way.
"""


class _Version(argparse.Action):
    """``--version``: armsim's version and the Unicorn build it runs (read when asked)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(f"armsim {__version__}\nengine: {engine_build()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    p = argparse.ArgumentParser(prog="armsim", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action=_Version, nargs=0,
                   help="show armsim's version and the engine build it runs, and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for cmd in COMMANDS:
        cmd.add_parser(sub)
    for name, parser in sub.choices.items():
        if parser.epilog is None:
            parser.epilog = EXIT_STATUS + (RUN_STATUS if name == "run" else "")
    return p


#: Options whose values start with "-" as people write them (``--opt -O2``): argparse would
#: read such a value as an option, so it is joined to its option first (``--opt=-O2``).
DASH_VALUES = {"--opt": "-O"}


def join_dash_values(argv: Sequence[str]) -> list[str]:
    """``--opt -O2`` -> ``--opt=-O2`` (see DASH_VALUES); everything else as given."""
    out: list[str] = []
    it = iter(argv)
    for a in it:
        prefix = DASH_VALUES.get(a)
        if prefix is not None:
            nxt = next(it, None)
            if nxt is not None and nxt.startswith(prefix):
                out.append(f"{a}={nxt}")
                continue
            out.append(a)
            if nxt is not None:
                out.append(nxt)
            continue
        out.append(a)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 0 every check passed, 1 a check failed, 2 bad input (see EPILOG)."""
    args = build_parser().parse_args(
        join_dash_values(sys.argv[1:] if argv is None else list(argv)))
    try:
        resolve_kernels(args)
        with allowed(getattr(args, "allow_path", None) or ()):  # where scripts may read
            return int(args.func(args))
    except ArmsimError as e:
        sys.stdout.flush()
        print(f"armsim: error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        # the reader went away (| head): exit quietly, as other Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("armsim: interrupted", file=sys.stderr)
        return 130
    except OSError as e:
        print(f"armsim: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT


__all__ = ["main", "build_parser"]
