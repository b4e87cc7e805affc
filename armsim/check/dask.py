"""The distributed engine armsim runs on: Dask ``distributed``, a ``LocalCluster`` of one
worker process per core by default, or an existing scheduler (``--scheduler`` or
``$ARMSIM_DASK_SCHEDULER``)."""

from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Iterator

import numpy as np

from armsim.check import validate as V
from armsim.check.validate import EmulatorRun, RunSpec
from armsim.errors import ArmsimError

SCHEDULER_ENV = "ARMSIM_DASK_SCHEDULER"


def scheduler_address(given: str | None) -> str | None:
    """The scheduler to use: the option, else the environment, else None (local cluster)."""
    return given or os.environ.get(SCHEDULER_ENV) or None


@contextlib.contextmanager
def client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A Dask client: to ``scheduler`` if given, else to a new local cluster of ``workers``
    single-threaded worker processes (default: one per core), closed on exit."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a dependency
        raise ArmsimError("Dask distributed is not installed (pip install distributed)") from None
    if scheduler:
        try:
            c = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as e:
            raise ArmsimError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
        try:
            yield c
        finally:
            c.close()
        return
    n = workers or V.default_jobs()
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=50) as cluster, \
            Client(cluster) as c:
        yield c


def dashboard(c: Any) -> str | None:
    """The scheduler's dashboard link, when it has one."""
    try:
        return c.dashboard_link
    except Exception:  # no bokeh, or no dashboard: nothing to print
        return None


def emulate(spec: RunSpec, xs: np.ndarray, jobs: int, scheduler: str | None, bar: Any,
            note: Callable[[str], None]) -> EmulatorRun:
    """The inputs through the emulator: on a pool of ``jobs`` processes, or as Dask tasks
    when a scheduler is given (``scheduler``, else $ARMSIM_DASK_SCHEDULER); ``bar`` shows the
    progress (``add``, ``advance``), ``note`` says where the dashboard is."""
    address = scheduler_address(scheduler)
    if address is None:
        task = bar.add(f"emulating {len(xs)} inputs on {jobs} process(es)", len(xs))
        return V.emulate(spec, xs, jobs, progress=lambda k: bar.advance(task, k))
    with client(address) as c:
        link = dashboard(c)
        if link:
            note(f"Dask dashboard: {link}")
        task = bar.add(f"emulating {len(xs)} inputs on Dask at {address}", len(xs))
        return V.emulate_dask(spec, xs, c, progress=lambda k: bar.advance(task, k))
