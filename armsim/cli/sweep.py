"""``armsim sweep`` and ``armsim report``: a grid of cells on Dask, and its HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from armsim.check.dask import client, dashboard, scheduler_address
from armsim.cli import options as O
from armsim.errors import EXIT_CHECK_FAILED, EXIT_OK, ArmsimError
from armsim.report import html as report
from armsim.report import tables as render
from armsim.sweep import run as R
from armsim.sweep.cell import CellResult
from armsim.sweep.spec import load
from armsim.sweep.store import Store


def add_parser(sub: Any) -> None:
    """Register both commands."""
    s = sub.add_parser("sweep", help="run a grid of models x dtypes x CPUs x kernels x -O "
                       "levels x parts on Dask; results in DIR/results.sqlite",
                       description="Every cell of the sweep file's grid is built, validated "
                       "and profiled as a Dask task (a local cluster of one worker per core, "
                       "or --scheduler). Finished cells are committed at once; a rerun skips "
                       "the cells already stored. Writes DIR/report.html at the end.")
    s.add_argument("sweep", help="the sweep file (.toml)")
    s.add_argument("--out", required=True, help="results folder (results.sqlite, report.html)")
    s.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="an existing Dask scheduler (default $ARMSIM_DASK_SCHEDULER; unset: "
                        "a local cluster)")
    s.add_argument("--workers", type=O.positive_int,
                   help="local cluster: worker processes (default: one per core)")
    O.add_data(s)
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=run_sweep)
    r = sub.add_parser("report", help="write the HTML page of a sweep's results",
                       description="One self-contained HTML file: the results table "
                       "(sortable), Pareto fronts of quality against estimated cycles and "
                       "flash per CPU, per-layer costs and confusion matrices of the Pareto "
                       "cells, versions.")
    r.add_argument("dir", help="a sweep's results folder")
    r.add_argument("--html", help="where to write the page (default DIR/report.html)")
    r.set_defaults(func=run_report)


def run_sweep(args: argparse.Namespace) -> int:
    """Run the cells not stored yet; exit 1 when a cell disagrees with its host, faults or
    ends in an error."""
    sweep = load(args.sweep)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ArmsimError(f"--out {out}: not a folder")
    store = Store(out / "results.sqlite")
    try:
        prepared = R.prepare(sweep, store, out, args.data)
        render.note(f"{len(prepared.hashes)} cells; {prepared.skipped} already stored, "
                    f"{len(prepared.tasks)} to run")
        if prepared.tasks:
            with client(scheduler_address(args.scheduler), args.workers) as c:
                link = dashboard(c)
                if link:
                    render.note(f"Dask dashboard: {link}")
                with render.progress(not args.quiet) as bar:
                    cells_t = bar.add("cells", len(prepared.tasks))
                    images_t = bar.add("images", len(prepared.tasks) * sweep.n)

                    def on_cell(row: CellResult) -> None:
                        bar.advance(cells_t, 1)
                        bar.advance(images_t, sweep.n)
                        k = row.key
                        if row.status != "ok" and not args.quiet:
                            render.note(f"{Path(k.model).name} {k.dtype} {k.cpu} {k.runtime} {k.kernels} "
                                        f"{k.opt} {k.mcu}: {row.status} {row.error or ''}"
                                        .strip())

                    R.execute(prepared, store, c, on_cell)
        rows = store.rows()
        page = report.write(out / "report.html", report.sweep_report(rows, f"armsim sweep: "
                                                                     f"{Path(args.sweep).name}"))
        wanted = set(prepared.hashes)
        mine = [r for r in rows if r["hash"] in wanted]
        render.note(f"results: {store.path} ({len(rows)} cells); report: {page}")
        counts: dict[str, int] = {}
        for r in mine:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        print(f"{len(mine)} cells: " + ", ".join(f"{n} {st}" for st, n in sorted(counts.items())))
        return exit_status(counts)
    finally:
        store.close()


def exit_status(counts: dict[str, int]) -> int:
    """The sweep's exit status from its cells' statuses: a cell that does not fit its part is
    a result; one that disagrees with its host, faults or could not be computed (error)
    fails the sweep."""
    failed = any(counts.get(s) for s in ("disagree", "fault", "error"))
    return EXIT_CHECK_FAILED if failed else EXIT_OK


def run_report(args: argparse.Namespace) -> int:
    """Write the page."""
    d = Path(args.dir)
    if not (d / "results.sqlite").is_file():
        raise ArmsimError(f"{d}: no results.sqlite (run `armsim sweep FILE --out {d}` first)")
    out = O.check_output(args.html, (".html", ".htm"), "--html") if args.html else \
        d / "report.html"
    store = Store(d / "results.sqlite")
    try:
        rows = store.rows()
    finally:
        store.close()
    report.write(out, report.sweep_report(rows, f"armsim sweep: {d.name}"))
    print(out)
    return EXIT_OK
