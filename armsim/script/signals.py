"""SIGNAL functions: coroutines on the estimated cycle clock.

A signal function runs when it is invoked until its first ``twatch(n)``/``swatch(s)``, then
waits until the CPU's estimated cycle count (``states``) has advanced that far; the runner
splits each ``G`` into slices that end where the earliest waiting signal is due, and
resumes the signals there. ``rwatch(a)``/``wwatch(a)`` wait instead for the program to read
or write address ``a``: the run watches it (the native access check) and resumes the signal
right after the access. Only one of the script and its signals runs at any time: each
signal body runs in its own thread, and the two hand control to each other through events,
so the interpreter stays a plain recursive one.
"""

from __future__ import annotations

import math
import threading
from typing import Callable


class SignalKilled(Exception):
    """Raised inside a signal's thread when it is killed while waiting."""


class Signal:
    """One running signal function.

    Attributes:
        name: the function's name (upper case)
        wake: the ``states`` value at which it runs next (infinite: waiting for an access)
        access: (address, "read" or "write") it waits for the program to access, else None
        done: True once its body returned, failed or was killed
        error: the exception its body raised, handed to the script by :meth:`step`
    """

    def __init__(self, name: str, body: Callable[["Signal"], object]) -> None:
        self.name = name
        self.wake = 0.0
        self.access: tuple[int, str] | None = None
        self.done = False
        self.error: BaseException | None = None
        self._body = body
        self._killed = False
        self._go = threading.Event()
        self._back = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"signal {name}", daemon=True)
        self._started = False

    def _main(self) -> None:
        self._go.wait()
        self._go.clear()
        try:
            if not self._killed:
                self._body(self)
        except SignalKilled:
            pass
        except BaseException as e:  # handed to the script's thread by step()
            self.error = e
        finally:
            self.done = True
            self._back.set()

    def step(self) -> None:
        """Run the signal until it waits again or ends (called by the script's thread)."""
        if self.done:
            return
        if not self._started:
            self._started = True
            self._thread.start()
        self._go.set()
        self._back.wait()
        self._back.clear()
        if self.error is not None:
            e, self.error = self.error, None
            raise e

    def wait_until(self, states: float) -> None:
        """Give control back until ``states`` is reached (called in the signal's thread)."""
        self.wake = states
        self._back.set()
        self._go.wait()
        self._go.clear()
        if self._killed:
            raise SignalKilled()

    def wait_access(self, address: int, kind: str) -> None:
        """Give control back until the program reads or writes ``address`` (``kind``)."""
        self.access = (address, kind)
        self.wait_until(math.inf)
        self.access = None

    def kill(self) -> None:
        """End the signal (its thread finishes at its current wait)."""
        if self.done:
            return
        self._killed = True
        if self._started:
            self._go.set()
            self._back.wait(5)
            self._back.clear()
        self.done = True
