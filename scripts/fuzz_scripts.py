#!/usr/bin/env python3
"""Fuzz the uVision script parser and runner: random token soups and mutated seed/set-up
scripts must only ever raise ScriptError. Prints cases run and findings; exit 1 on any.

    python scripts/fuzz_scripts.py [--cases 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from armsim.plan.seed import seed_graph, seed_plan  # noqa: E402
from armsim.errors import ScriptError  # noqa: E402
from armsim.mcu import get_mcu  # noqa: E402
from armsim.script.parser import decode, parse_lines  # noqa: E402
from armsim.script.runner import MemoryTarget, Runner  # noqa: E402

PIECES = ["_WFLOAT", "_WDWORD", "_WBYTE", "_WWORD", "_WDOUBLE", "_RDWORD", "_RFLOAT", "FUNC",
          "void", "(", ")", "{", "}", ";", ",", "0x20000000", "536874068", "0.5", "-1e-3f",
          "1e39", "inf", "nan", "//", "/*", "*/", "\"", "SP", "PC", "=", "g", "main", "LOAD",
          "%L", "INCREMENTAL", "BS", "<<", ">>", "~", "-", "*", "/", "%", "\n", " ", "\t", "\r\n",
          "0777", "1FH", "101Y", "printf", "_sleep_", "Setup", "\u00e9", "\ufeff", "@", "$",
          "0E000ED08H", "..", "\\"]
SEEDS = [
    "_WFLOAT (536874068,0.12373909) \n_WFLOAT (536874072,-1.0) \n_WFLOAT (536870932,1e-08) \n",
    "FUNC void Setup (void) {\n  SP = _RDWORD(0x08000000);\n  PC = _RDWORD(0x08000004);\n"
    "  _WDWORD(0xE000ED08, 0x08000000);\n}\nLOAD %L INCREMENTAL\nSetup();\ng, main\n",
    "/* c */ _WDWORD(0x20000000 + 4*2, (1 << 4) | 0x3); // x\n_WBYTE(0x20000010, "
    "_RBYTE(0x20000008) + 1)\n",
]


def mutate(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randrange(1, 12)):
        op = rng.randrange(4)
        i = rng.randrange(len(chars) + 1)
        if op == 0 and chars:
            del chars[min(i, len(chars) - 1)]
        elif op == 1:
            chars.insert(i, rng.choice("_WFLOAT(),.0123456789eExX+-;/*{} \n\"'=%L"))
        elif op == 2 and chars:
            chars[min(i, len(chars) - 1)] = chr(rng.randrange(1, 0x250))
        else:
            j = rng.randrange(len(chars) + 1)
            chars[i:i] = chars[j:j + rng.randrange(1, 20)]
    return "".join(chars)


def one(text: str, memory, layout) -> None:
    program = parse_lines(decode(text.encode("utf-8", "surrogatepass"), "f.ini"), "f.ini")
    Runner(program, MemoryTarget(), memory, layout).run()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    memory, layout = get_mcu("generic").memory_map(), seed_plan(seed_graph(8))
    findings = 0
    errors = 0
    t0 = time.perf_counter()
    for n in range(args.cases):
        if n % 2:
            text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 40)))
        else:
            text = mutate(rng, rng.choice(SEEDS))
        try:
            one(text, memory, layout)
        except ScriptError:
            errors += 1
        except Exception:
            findings += 1
            if findings <= 5:
                print(f"FINDING on case {n}: {text!r}\n{traceback.format_exc()}")
    dt = time.perf_counter() - t0
    print(f"{args.cases} cases in {dt:.1f} s: {errors} ScriptErrors, "
          f"{args.cases - errors - findings} accepted, {findings} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
