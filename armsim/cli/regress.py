"""``armsim regress``: exact instruction counts against the committed baseline."""

from __future__ import annotations

import argparse
import json
from typing import Any

from armsim.errors import EXIT_CHECK_FAILED, EXIT_OK, ArmsimError
from armsim.model import inputs
from armsim.report import tables as render
from armsim.session import regress as R
from armsim.session.versions import versions


def add_parser(sub: Any) -> None:
    """Register the command."""
    r = sub.add_parser("regress", help="compare exact instruction counts (seed and zoo, every "
                       "CPU and kernel set) with the baseline")
    r.add_argument("--update", action="store_true", help="rewrite the baseline on purpose")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Measure and compare (or rewrite)."""
    path = R.baseline_path()
    if not args.update and not path.is_file():
        raise ArmsimError(f"no baseline at {path}: run 'armsim regress --update' to create it")
    with render.progress(not args.json) as bar:
        task = bar.add("measuring", None)
        now = R.measure(inputs.data_file(inputs.DEFAULT_MODEL), inputs.load_digits(),
                        progress=lambda what: bar.describe(task, f"measuring {what}"))
    if args.update:
        R.save_baseline(now)
        print(f"wrote {path}: {R.totals(now)}")
        return EXIT_OK
    base = R.load_baseline(path)
    changes = R.compare(base, now)
    if args.json:
        print(json.dumps({"changes": [dict(zip(("variant", "function", "baseline", "now"), c))
                                      for c in changes], "baseline": str(path),
                          "versions": versions()}, indent=2))
    elif changes:
        render.regress_changes(changes, path, base.get("toolchain"), now.get("toolchain"))
    else:
        print(f"instruction counts match {path} ({R.totals(now)})")
    return EXIT_CHECK_FAILED if changes else EXIT_OK
