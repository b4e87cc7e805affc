"""The exceptions armsim raises: one base class, a child per kind of bad input, and the
checks that failed.

Every error a user can cause derives from :class:`ArmsimError`; the CLI prints its message
and exits with its ``exit_code``: 2 for bad input or usage, 1 for a check that failed
(:class:`CheckFailed`: the firmware faulted, ran past its limits, exited with a failure or
had a kernel refuse its arguments). Anything else escaping is a bug in armsim.
"""

from __future__ import annotations

#: Exit statuses of every command: 0 every check passed; 1 a check failed (a disagreement,
#: a firmware fault, a budget or time limit, a memory-check finding); 2 bad input or usage
#: (a message, never a traceback). ``armsim run`` returns the firmware's own semihosting
#: exit status when the firmware exits that way.
EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class ArmsimError(Exception):
    """Base class: a problem with what the user gave armsim (exit status 2)."""

    exit_code = EXIT_BAD_INPUT


class DataError(ArmsimError):
    """A data file (MNIST IDX, bundled digits) is missing, truncated or corrupt."""


class ModelError(ArmsimError):
    """A Keras model cannot be loaded or is not the seed architecture.

    ``unsupported`` lists the TFLite operators (or Keras layer classes) of a refused model
    that armsim cannot run, so a caller can say whether another runtime would."""

    def __init__(self, message: str, unsupported: tuple[str, ...] = (),
                 kind: str = "") -> None:
        super().__init__(message)
        self.unsupported = unsupported
        #: "tflite" (operator names) or "keras" (layer classes) for ``unsupported``
        self.kind = kind


class LayoutError(ArmsimError):
    """Memory contents do not fit the declared layout (wrong count, overlap, alignment)."""


class ToolchainError(ArmsimError):
    """The cross compiler is missing or a kernel build failed."""


class ElfError(ArmsimError):
    """An ELF file is unreadable or does not fit the target's memory map."""


class ScriptError(ArmsimError):
    """A uVision debug script is malformed; carries file, line and column."""

    def __init__(self, message: str, file: str = "<script>", line: int = 0, col: int = 0,
                 text: str = "") -> None:
        self.file = file
        self.line = line
        self.col = col
        self.text = text
        self.reason = message
        where = f"{file}:{line}:{col}" if line else file
        quoted = f"\n    {text.rstrip()}\n    {' ' * max(col - 1, 0)}^" if text else ""
        super().__init__(f"{where}: {message}{quoted}")


class CheckFailed(ArmsimError):
    """A check armsim ran failed on the firmware (exit status 1): not bad input."""

    exit_code = EXIT_CHECK_FAILED


class FirmwareFailed(CheckFailed):
    """The firmware ran to its end but reported a failure: a non-zero exit status through
    semihosting, or a CMSIS-NN call that refused its arguments."""


class EmulatorFault(CheckFailed):
    """The emulated CPU faulted or ran past its limits; carries the machine state."""

    def __init__(self, kind: str, message: str, pc: int, function: str | None,
                 report: str = "") -> None:
        self.kind = kind
        self.pc = pc
        self.function = function
        self.report = report
        super().__init__(message if not report else f"{message}\n{report}")
