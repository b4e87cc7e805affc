"""Open a model in a host interpreter in a forked child first: TensorFlow's interpreter and
TFLM's are C++ that can end the process on a damaged file (SIGSEGV, abort) or spin, and a
crash must become a clear error, not a dead command. The child's output (the interpreters'
own lines) is kept for the parent's message."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

from armsim.errors import ModelError


@dataclass(frozen=True)
class ChildResult:
    """How the child ended: a signal (a crash), or its exit code, and what it printed."""

    signal: int | None
    code: int
    output: str


def run_forked(work: Callable[[], None], timeout_s: float, what: str) -> ChildResult | None:
    """Run ``work()`` in a forked child (fd 1 and 2 captured; an exception is exit code 3
    with its text appended); None where fork is unavailable. A ModelError naming ``what``
    when the child runs longer than ``timeout_s``."""
    if not hasattr(os, "fork"):
        return None
    log = tempfile.TemporaryFile()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            work()
        except BaseException as e:
            os.write(2, f"\nARMSIM-ERROR {type(e).__name__}: {e}\n".encode())
            code = 3
        os._exit(code)
    deadline = time.monotonic() + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            log.close()
            raise ModelError(f"{what} did not finish opening and running this model in "
                             f"{timeout_s:g} s")
        time.sleep(0.02)
    log.seek(0)
    text = log.read().decode(errors="replace")
    log.close()
    if os.WIFSIGNALED(status):
        return ChildResult(os.WTERMSIG(status), 0, text)
    return ChildResult(None, os.WEXITSTATUS(status), text)
