#!/usr/bin/env python3
"""Fuzz the ELF loader and machine set-up: mutated copies of the network ELF (bit flips,
overwritten header fields, truncations, splices) must only ever raise armsim's documented
errors (ArmsimError and its children), never a raw pyelftools/unicorn exception.

    python scripts/fuzz_elf.py [--cases 2000] [--seed 0] [--run]
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from armsim.errors import ArmsimError  # noqa: E402
from armsim.firmware.build import build  # noqa: E402
from armsim.machine.elf import ElfImage  # noqa: E402
from armsim.machine.emulator import Machine  # noqa: E402
from armsim.parts import cpus
from armsim.parts import mcus as mcu  # noqa: E402
from armsim.plan.seed import seed_graph, seed_plan  # noqa: E402


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randrange(1, 6)):
        op = rng.randrange(5)
        if op == 0:  # flip bits anywhere
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # overwrite a header or program/section header field
            hdr = rng.choice([rng.randrange(0, 52), rng.randrange(52, 52 + 32 * 4),
                              rng.randrange(max(len(b) - 40 * 20, 0), len(b))])
            val = rng.choice([0, 1, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, rng.getrandbits(32)])
            if hdr + 4 <= len(b):
                b[hdr:hdr + 4] = struct.pack("<I", val)
        elif op == 2:  # truncate
            del b[rng.randrange(len(b)):]
            if not b:
                break
        elif op == 3:  # splice a chunk elsewhere
            i, j = rng.randrange(len(b)), rng.randrange(len(b))
            n = rng.randrange(1, 64)
            b[i:i + n] = b[j:j + n]
        elif len(b) > 56:  # random bytes in the program headers
            i = rng.randrange(52, min(52 + 32 * 4, len(b) - 4))
            b[i:i + 4] = rng.randbytes(4)
    return bytes(b)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--run", action="store_true", help="also run each loadable ELF briefly")
    args = ap.parse_args()
    cpu, part = cpus.get_cpu("m4f"), mcu.get_mcu("generic")
    good = build(cpu, seed_plan(seed_graph(8)), part).elf.read_bytes()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp()) / "fuzz.elf"
    rejected = loaded = findings = 0
    t0 = time.perf_counter()
    for n in range(args.cases):
        tmp.write_bytes(mutate(rng, good))
        try:
            image = ElfImage.load(tmp)
            m = Machine(image, cpu, part)
            if args.run:
                m.run(max_instructions=2_000_000, timeout_s=0.5)
            loaded += 1
        except ArmsimError:
            rejected += 1
        except Exception:
            findings += 1
            if findings <= 5:
                print(f"FINDING on case {n}:\n{traceback.format_exc()}")
    print(f"{args.cases} cases in {time.perf_counter() - t0:.1f} s: {rejected} rejected with "
          f"armsim errors, {loaded} loaded{' and ran' if args.run else ''}, {findings} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
