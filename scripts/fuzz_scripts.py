#!/usr/bin/env python3
"""Fuzz the uVision script parser and runner: random token soups and mutated seed/set-up
scripts must only ever raise ScriptError. Prints cases run and findings; exit 1 on any.

    python scripts/fuzz_scripts.py [--cases 100000] [--seed 0] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# loops are stopped after this many statements: a fuzzed while (1) must end fast
os.environ.setdefault("ARMSIM_SCRIPT_MAX_STEPS", "2000")

from armsim.errors import ScriptError  # noqa: E402
from armsim.parts.mcus import get_mcu  # noqa: E402
from armsim.plan.seed import seed_graph, seed_plan  # noqa: E402
from armsim.script.parser import decode, parse_lines  # noqa: E402
from armsim.script.runner import MemoryTarget, Runner  # noqa: E402

PIECES = ["_WFLOAT", "_WDWORD", "_WBYTE", "_WWORD", "_WDOUBLE", "_RDWORD", "_RFLOAT", "FUNC",
          "void", "(", ")", "{", "}", ";", ",", "0x20000000", "536874068", "0.5", "-1e-3f",
          "1e39", "inf", "nan", "//", "/*", "*/", "\"", "SP", "PC", "=", "g", "main", "LOAD",
          "%L", "INCREMENTAL", "BS", "<<", ">>", "~", "-", "*", "/", "%", "\n", " ", "\t", "\r\n",
          "0777", "1FH", "101Y", "printf", "_sleep_", "Setup", "\u00e9", "\ufeff", "@", "$",
          "0E000ED08H", "..", "\\",
          # the debug-function language and µVision's commands
          "int", "unsigned", "long", "char", "float", "double", "if", "else", "while", "for",
          "do", "break", "continue", "return", "+=", "-=", "<<=", "++", "--", "==", "!=", "&&",
          "||", "!", "?", ":", "&", "|", "^", "'a'", "'\\n'", "`", "SIGNAL", "twatch",
          "swatch", "states", "_break_", "DEFINE", "define", "BUTTON", "KILL", "RESET", "LOG",
          ">", ">>", "OFF", "exec", "EXIT", "T", "P", "E", "EVAL", "BK", "BD", "BE", "BL", "*",
          "INCLUDE", "MAP", "READ", "WRITE", "EXEC", "\\\\mod\\func", "\\f.c\\12", "__sin",
          "__sqrt", "rand", "memset", "%d", "%x", "%s", "%f", "\"%d %s\\n\"", "(unsigned int *)",
          "CCLK", "RCC_BASE", "0x40023800", "0xA0000000", "0x10000000", "xPSR", "CONTROL",
          "uchar", "uint", "ulong", "bit", "MAIN"]
SEEDS = [
    "_WFLOAT (536874068,0.12373909) \n_WFLOAT (536874072,-1.0) \n_WFLOAT (536870932,1e-08) \n",
    "FUNC void Setup (void) {\n  SP = _RDWORD(0x08000000);\n  PC = _RDWORD(0x08000004);\n"
    "  _WDWORD(0xE000ED08, 0x08000000);\n}\nLOAD %L INCREMENTAL\nSetup();\ng, main\n",
    "/* c */ _WDWORD(0x20000000 + 4*2, (1 << 4) | 0x3); // x\n_WBYTE(0x20000010, "
    "_RBYTE(0x20000008) + 1)\n",
    "FUNC int Fib (int n) {\n  int a, b, t;\n  a = 0; b = 1;\n  while (n-- > 0) {\n"
    "    t = a + b; a = b; b = t;\n  }\n  return a;\n}\n"
    "FUNC void Fill (unsigned long base) {\n  int i;\n  for (i = 0; i < 4; i++) {\n"
    "    if (i == 2) continue;\n    _WBYTE(base + i, 'A' + i);\n  }\n"
    "  *((unsigned short *) (base + 8)) = 0xBEEF;\n  _WDWORD(base + 12, Fib(7));\n}\n"
    "Fill(0x20010000);\nprintf(\"%d %x %s\\n\", Fib(5), 255, \"ok\");\n",
    "DEFINE int ticks\nSIGNAL void Tick (unsigned long p) {\n  while (1) {\n"
    "    twatch(p);\n    ticks++;\n    if (ticks > 2) _break_ = 1;\n  }\n}\n"
    "Tick(100);\nSIGNAL STATE\nSIGNAL KILL Tick\nDEFINE BUTTON \"b\", \"ticks++\"\n",
    "MAP 0x10000000, 0x10007FFF READ WRITE\nLOG > x.log\nE long 0x20010000 = 1, 2\n"
    "EVAL 3 * 4\nBS main, 2, \"printf(\\\"hit\\\")\"\nBK *\nexec(\"_WBYTE(0x20000000, 1)\")\n"
    "RESET\nKILL FUNC *\nLOG OFF\nEXIT\n",
]


def mutate(rng: random.Random, text: str, most: int = 12) -> str:
    chars = list(text)
    for _ in range(rng.randrange(1, most)):
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


class FakeCpu(MemoryTarget):
    """A CPU target without an emulator: registers, a symbol, and runs that advance a clock
    and end (so CPU commands, breakpoints and signals run too, fast)."""

    def __init__(self) -> None:
        super().__init__()
        self.regs: dict[str, int] = {"PC": 0x100, "SP": 0x20001000}
        self.clock = 0.0

    def set_reg(self, name: str, value: int) -> None:
        self.regs[name] = value

    def read(self, address: int, size: int) -> bytes:
        try:
            return super().read(address, size)
        except ScriptError:
            return bytes(size)  # memory nothing wrote reads as zero

    def get_reg(self, name: str) -> int:
        return self.regs.get(name, 0)

    def symbol(self, name: str) -> tuple[int, int, bool] | None:
        return (0x100, 4, True) if name == "main" else None

    def load(self, path, options, base_dir) -> str:  # type: ignore[no-untyped-def]
        return "loaded"

    def go(self, start, stop, breakpoints, watches, max_steps):  # type: ignore[no-untyped-def]
        self.clock += 100 if max_steps is None else max_steps
        if self.clock > 20_000:
            return 0x200, "halt"
        if max_steps is not None:
            return 0x180, "steps"
        return (stop, "stop") if stop is not None else (0x200, "halt")

    def reset(self) -> None:
        self.regs["PC"] = 0x100

    def states(self) -> float:
        return self.clock

    def instructions(self) -> int:
        return int(self.clock)

    def map_region(self, lo: int, hi: int, perms: str) -> str:
        return "mapped"


def one(text: str, memory, layout, cpu: bool = False) -> None:
    program = parse_lines(decode(text.encode("utf-8", "surrogatepass"), "f.ini"), "f.ini")
    Runner(program, FakeCpu() if cpu else MemoryTarget(), memory, layout).run()


def chunk(seed: int, start: int, count: int) -> tuple[int, int, list[str]]:
    """Run cases start..start+count-1 of the stream for ``seed``: (ScriptErrors, findings,
    reports of the first findings)."""
    rng = random.Random(f"{seed}:{start}")
    memory, layout = get_mcu("generic").memory_map(), seed_plan(seed_graph(8))
    errors = findings = 0
    reports: list[str] = []
    for n in range(start, start + count):
        if n % 3 == 1:
            text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 40)))
        elif n % 3 == 2:  # light mutations: most cases get past the parser and run
            text = mutate(rng, rng.choice(SEEDS), 3)
        else:
            text = mutate(rng, rng.choice(SEEDS))
        try:
            one(text, memory, layout if n % 8 == 0 else None, cpu=n % 4 < 2)
        except ScriptError:
            errors += 1
        except Exception:
            findings += 1
            if len(reports) < 5:
                reports.append(f"FINDING on case {n}: {text!r}\n{traceback.format_exc()}")
    return errors, findings, reports


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="worker processes (default: all cores)")
    args = ap.parse_args()
    step = 10_000
    parts = [(args.seed, a, min(step, args.cases - a)) for a in range(0, args.cases, step)]
    t0 = time.perf_counter()
    if args.jobs > 1:
        from multiprocessing import Pool

        with Pool(args.jobs) as pool:
            results = pool.starmap(chunk, parts)
    else:
        results = [chunk(*p) for p in parts]
    errors = sum(r[0] for r in results)
    findings = sum(r[1] for r in results)
    for r in results:
        for text in r[2]:
            print(text)
    dt = time.perf_counter() - t0
    print(f"{args.cases} cases in {dt:.1f} s: {errors} ScriptErrors, "
          f"{args.cases - errors - findings} accepted, {findings} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
