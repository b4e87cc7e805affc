"""The pinned TFLM source tree and the exact dependency versions its make build downloads
(flatbuffers, gemmlowp, ruy, kissfft, CMSIS_6, Cortex_DFP, CMSIS-NN), read in place: they are
read-only (a build writes only into armsim's cache). Found through ``$ARMSIM_THIRD_PARTY_DIR``,
else ``../shared/third_party`` beside the checkout or the working directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from armsim.errors import ToolchainError

ENV = "ARMSIM_THIRD_PARTY_DIR"
#: The folders a TFLM build reads, by the name TFLM's make build gives them.
NEEDED = ("tflite-micro", "flatbuffers", "gemmlowp", "ruy", "kissfft", "CMSIS_6",
          "Cortex_DFP", "CMSIS-NN")


def _commit(folder: Path) -> str:
    """The commit in a folder's VERSION file ("unknown" without one)."""
    version = folder / "VERSION"
    if version.is_file():
        for line in version.read_text(errors="replace").splitlines():
            if line.startswith("commit:"):
                return line.split(":", 1)[1].strip()
    return "unknown"


@dataclass(frozen=True)
class Tree:
    """The third-party folder holding TFLM and its dependencies."""

    root: Path

    def __getitem__(self, name: str) -> Path:
        return self.root / name

    @property
    def tflm(self) -> Path:
        """The tflite-micro tree."""
        return self.root / "tflite-micro"

    @property
    def micro(self) -> Path:
        """``tensorflow/lite/micro``."""
        return self.tflm / "tensorflow" / "lite" / "micro"

    def commit(self, name: str = "tflite-micro") -> str:
        """A folder's pinned commit."""
        return _commit(self.root / name)

    def commits(self) -> dict[str, str]:
        """Every folder's pinned commit (part of the libraries' cache keys)."""
        return {n: self.commit(n) for n in NEEDED}


def _candidates() -> list[Path]:
    checkout = Path(__file__).resolve().parents[3]
    env = os.environ.get(ENV)
    return ([Path(env)] if env else []) + [checkout.parent / "shared" / "third_party",
                                           Path.cwd().parent / "shared" / "third_party"]


def locate(required: bool = True) -> Tree | None:
    """The third-party folder with TFLM and its dependencies, or (``required``) a
    ToolchainError saying where armsim looked and what was missing."""
    looked = _candidates()
    for p in looked:
        if (p / "tflite-micro" / "tensorflow" / "lite" / "micro" / "micro_interpreter.h").is_file():
            missing = [n for n in NEEDED if not (p / n).is_dir()]
            if missing:
                raise ToolchainError(f"{p}: TFLM is there but not {', '.join(missing)} (the "
                                     "versions TFLM's make build downloads)")
            return Tree(p.resolve())
    if not required:
        return None
    raise ToolchainError(
        "TensorFlow Lite Micro not found: --runtime tflm builds TFLM from the pinned sources "
        f"({', '.join(NEEDED)}). Looked in " + ", ".join(str(p) for p in looked)
        + f"; set ${ENV} to a folder holding them.")


def version() -> str | None:
    """The TFLM commit found, or None (for reports' versions)."""
    t = locate(required=False)
    return t.commit() if t else None
