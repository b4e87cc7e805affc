#!/usr/bin/env python3
"""Print the cycle model's error on every measured fact (tests/cycles): each snippet's
expected cycles per iteration, the model's, and the difference, as a Markdown table for
docs/cycle-model.md; with --programs, the per-core error over published whole-routine
counts that every report states (armsim/timing/accuracy.py), and its rows.

    python scripts/cycle_facts.py [--programs]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cycles.harness import per_iteration  # noqa: E402
from armsim.timing import accuracy  # noqa: E402
from tests.cycles.test_facts import M4F, M7, M7_NOT_MODELLED, M34  # noqa: E402


def programs() -> None:
    """The per-core error table and the rows it is made of."""
    print("| core | programs | largest \\|error\\| | median \\|error\\| |")
    print("| --- | --- | --- | --- |")
    for core in dict.fromkeys(c for c, *_ in accuracy.MEASURED):
        a = accuracy.published(core)
        print(f"| {core} | {a.n} | {a.max_pct:g} % | {a.median_pct:g} % |")
    print()
    print("| core | routine | measured | estimate | error |")
    print("| --- | --- | --- | --- | --- |")
    for core, name, meas, est in accuracy.MEASURED:
        print(f"| {core} | {name} | {meas:,} | {est:,.0f} | {100 * (est - meas) / meas:+.1f} % |")


def main() -> int:
    if "--programs" in sys.argv[1:]:
        programs()
        return 0
    work = Path(tempfile.mkdtemp(prefix="armsim-facts-"))
    print("| core | fact | expected | model | error |")
    print("| --- | --- | --- | --- | --- |")
    rows = [(cpu, name, snip, exp, un) for name, snip, exp, un in M34 for cpu in ("m3", "m4f")]
    rows += [("m4f", name, snip, exp, False) for name, snip, exp in M4F]
    rows += [("m7", name, snip, exp, False) for name, snip, exp in M7]
    rows += [("m7", name + " (not modelled)", snip, exp, False)
             for name, snip, exp, _why in M7_NOT_MODELLED]
    for cpu, name, snip, exp, un in rows:
        got = per_iteration(cpu, snip, work, un)
        print(f"| {cpu} | {name} | {exp:g} | {got:g} | {got - exp:+g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
