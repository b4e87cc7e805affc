#!/usr/bin/env python3
"""Print the cycle model's error on every measured fact (tests/cycles): each snippet's
expected cycles per iteration, the model's, and the difference, as a Markdown table for
docs/cycle-model.md.

    python scripts/cycle_facts.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cycles.harness import per_iteration  # noqa: E402
from tests.cycles.test_facts import M4F, M7, M7_NOT_MODELLED, M34  # noqa: E402


def main() -> int:
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
