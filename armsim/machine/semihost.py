"""Arm semihosting (BKPT 0xAB on M-profile): the calls newlib's ``rdimon`` makes.

Operation numbers and parameter blocks follow Arm's "Semihosting for AArch32 and AArch64"
(version 2.0, chapter 5): R0 holds the operation, R1 a pointer to its parameter block (or
a value), and the result goes back in R0. The console (``:tt``) and the feature file
(``:semihosting-features``, which advertises SYS_EXIT_EXTENDED and separate stdout/stderr)
are the only files: opening anything else fails with EACCES, so firmware never touches the
host's files.
"""

from __future__ import annotations

import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol, TextIO

#: Operation numbers (Semihosting v2.0, table 5-1).
SYS_OPEN, SYS_CLOSE, SYS_WRITEC, SYS_WRITE0, SYS_WRITE = 0x01, 0x02, 0x03, 0x04, 0x05
SYS_READ, SYS_READC, SYS_ISERROR, SYS_ISTTY, SYS_SEEK = 0x06, 0x07, 0x08, 0x09, 0x0A
SYS_FLEN, SYS_TMPNAM, SYS_REMOVE, SYS_RENAME, SYS_CLOCK = 0x0C, 0x0D, 0x0E, 0x0F, 0x10
SYS_TIME, SYS_SYSTEM, SYS_ERRNO, SYS_GET_CMDLINE, SYS_HEAPINFO = 0x11, 0x12, 0x13, 0x15, 0x16
SYS_EXIT, SYS_EXIT_EXTENDED, SYS_ELAPSED, SYS_TICKFREQ = 0x18, 0x20, 0x30, 0x31
NAMES = {v: k for k, v in globals().items() if k.startswith("SYS_")}

#: Exit reasons (Semihosting v2.0, table 5-6); ApplicationExit carries the status.
ADP_STOPPED_APPLICATION_EXIT = 0x20026
EXIT_REASONS = {0x20000: "BranchThroughZero", 0x20001: "UndefinedInstr",
                0x20002: "SoftwareInterrupt", 0x20003: "PrefetchAbort", 0x20004: "DataAbort",
                0x20005: "AddressException", 0x20006: "IRQ", 0x20007: "FIQ",
                0x20020: "BreakPoint", 0x20021: "WatchPoint", 0x20022: "StepComplete",
                0x20023: "RunTimeErrorUnknown", 0x20024: "InternalError",
                0x20025: "UserInterruption", 0x20026: "ApplicationExit",
                0x20027: "StackOverflow", 0x20028: "DivisionByZero", 0x20029: "OSSpecific"}
#: The feature file: magic "SHFB", then byte 0: bit 0 SYS_EXIT_EXTENDED, bit 1 stdout/stderr.
FEATURES = b"SHFB\x03"
EACCES, EBADF, ENOENT = 13, 9, 2
STDIN, STDOUT, STDERR, FEATURE_FILE = "stdin", "stdout", "stderr", "features"


class Memory(Protocol):
    """What the handler needs of the machine."""

    def read(self, address: int, size: int) -> bytes: ...
    def host_write(self, address: int, data: bytes) -> None: ...


@dataclass
class Exit:
    """How the firmware asked to stop: the reason's name, its code and the exit status."""

    reason: str
    code: int
    status: int


@dataclass
class Semihost:
    """The host side of semihosting for one run.

    Attributes:
        output: what the firmware wrote, per stream ("stdout", "stderr", "itm")
        exit: set when the firmware exited through SYS_EXIT or SYS_EXIT_EXTENDED
        refused: files the firmware tried to open (refused)
        calls: number of calls per operation name
        heap: (heap base, heap limit, stack base, stack limit) for SYS_HEAPINFO
        echo: stream to copy console output to as it arrives (None: keep it only)
        clock: seconds of emulated time so far (SYS_CLOCK, SYS_ELAPSED)
        tick_hz: the tick rate SYS_ELAPSED counts in (SYS_TICKFREQ)
    """

    heap: tuple[int, int, int, int] = (0, 0, 0, 0)
    echo: TextIO | None = None
    clock: Callable[[], float] = lambda: 0.0
    tick_hz: int = 1_000_000
    cmdline: str = "firmware"
    output: dict[str, str] = field(default_factory=lambda: {STDOUT: "", STDERR: ""})
    exit: Exit | None = None
    refused: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    errno: int = 0
    #: handles 0, 1 and 2 are the console from the start, as in QEMU (firmware that never
    #: opened ":tt" still prints); SYS_OPEN hands out 3 on
    _files: dict[int, list] = field(default_factory=lambda: {0: [STDIN, 0], 1: [STDOUT, 0],
                                                             2: [STDERR, 0]})
    _next: int = 3

    def emit(self, stream: str, text: str) -> None:
        """Keep (and echo) console output."""
        self.output[stream] = self.output.get(stream, "") + text
        if self.echo is not None and text:
            (sys.stderr if stream == STDERR and self.echo is sys.stdout else self.echo).write(text)
            self.echo.flush()

    def call(self, op: int, arg: int, mem: Memory) -> int:
        """Perform operation ``op`` with R1 = ``arg``; the value for R0."""
        name = NAMES.get(op, f"0x{op:02X}")
        self.calls[name] = self.calls.get(name, 0) + 1

        def words(n: int) -> tuple[int, ...]:
            return struct.unpack(f"<{n}I", mem.read(arg, 4 * n))

        if op == SYS_OPEN:
            ptr, mode, length = words(3)
            path = mem.read(ptr, length).decode("latin-1")
            if path == ":tt":
                return self._open(STDIN if mode < 4 else STDOUT if mode < 8 else STDERR)
            if path == ":semihosting-features" and mode in (0, 1):
                return self._open(FEATURE_FILE)
            self.refused.append(path)
            return self._fail(EACCES)
        if op == SYS_CLOSE:
            (h,) = words(1)
            return 0 if self._files.pop(h, None) is not None else self._fail(EBADF)
        if op == SYS_WRITEC:
            self.emit(STDOUT, mem.read(arg, 1).decode("latin-1"))
            return 0
        if op == SYS_WRITE0:
            out = bytearray()
            while len(out) < 1 << 20:
                chunk = mem.read(arg + len(out), 64)
                end = chunk.find(b"\0")
                out += chunk if end < 0 else chunk[:end]
                if end >= 0:
                    break
            self.emit(STDOUT, out.decode("utf-8", "replace"))
            return 0
        if op == SYS_WRITE:
            h, buf, length = words(3)
            f = self._files.get(h)
            if f is None or f[0] not in (STDOUT, STDERR):
                self._fail(EBADF)
                return length
            self.emit(f[0], mem.read(buf, length).decode("utf-8", "replace"))
            return 0
        if op == SYS_READ:
            h, buf, length = words(3)
            f = self._files.get(h)
            if f is None:
                self._fail(EBADF)
                return length
            if f[0] != FEATURE_FILE:
                return length  # the console has no input: end of file
            data = FEATURES[f[1]:f[1] + length]
            mem.host_write(buf, data)
            f[1] += len(data)
            return length - len(data)
        if op == SYS_READC:
            return 0xFFFFFFFF  # no console input
        if op == SYS_ISERROR:
            (status,) = words(1)
            return 1 if status & 0x80000000 else 0
        if op == SYS_ISTTY:
            (h,) = words(1)
            f = self._files.get(h)
            return 1 if f is not None and f[0] != FEATURE_FILE else self._fail(EBADF) & 0
        if op == SYS_SEEK:
            h, pos = words(2)
            f = self._files.get(h)
            if f is None or f[0] != FEATURE_FILE:
                return self._fail(EBADF)
            f[1] = min(pos, len(FEATURES))
            return 0
        if op == SYS_FLEN:
            (h,) = words(1)
            f = self._files.get(h)
            if f is None:
                return self._fail(EBADF)
            return len(FEATURES) if f[0] == FEATURE_FILE else 0
        if op in (SYS_TMPNAM, SYS_REMOVE, SYS_RENAME, SYS_SYSTEM):
            return self._fail(EACCES)
        if op == SYS_CLOCK:
            return int(self.clock() * 100) & 0xFFFFFFFF
        if op == SYS_TIME:
            return int(time.time()) & 0xFFFFFFFF
        if op == SYS_ERRNO:
            return self.errno
        if op == SYS_GET_CMDLINE:
            buf, length = words(2)
            text = self.cmdline.encode()[:max(length - 1, 0)] + b"\0"
            mem.host_write(buf, text)
            mem.host_write(arg + 4, struct.pack("<I", len(text) - 1))
            return 0
        if op == SYS_HEAPINFO:
            (block,) = words(1)
            mem.host_write(block, struct.pack("<4I", *self.heap))
            return 0
        if op == SYS_ELAPSED:
            mem.host_write(arg, struct.pack("<Q", int(self.clock() * self.tick_hz)))
            return 0
        if op == SYS_TICKFREQ:
            return self.tick_hz
        if op == SYS_EXIT:
            # 32-bit: R1 is the reason itself; only ApplicationExit means success
            self.exit = Exit(EXIT_REASONS.get(arg, f"0x{arg:X}"), arg,
                             0 if arg == ADP_STOPPED_APPLICATION_EXIT else 1)
            return 0
        if op == SYS_EXIT_EXTENDED:
            reason, sub = words(2)
            status = sub if reason == ADP_STOPPED_APPLICATION_EXIT else 1
            self.exit = Exit(EXIT_REASONS.get(reason, f"0x{reason:X}"), reason,
                             status - (1 << 32) if status & 0x80000000 else status)
            return 0
        return self._fail(ENOENT)  # an operation armsim does not provide

    def _open(self, kind: str) -> int:
        h = self._next
        self._next += 1
        self._files[h] = [kind, 0]
        return h

    def _fail(self, errno: int) -> int:
        self.errno = errno
        return 0xFFFFFFFF
