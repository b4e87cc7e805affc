"""Arm's CMSIS-NN as a dependency: find the pinned copy, and compile only the sources a
firmware calls, per CPU, into a cached static library.

CMSIS-NN is found through ``$ARMSIM_CMSIS_NN_DIR``, else ``../shared/third_party/CMSIS-NN``
beside the checkout (or the working directory), else the clone ``scripts/setup.sh`` makes
in the cache. Which sources a firmware needs is a closure: start from the ``arm_*``
functions the generated C calls, add the file defining each, then the functions those files
call, until nothing new appears. The DSP paths are chosen by CMSIS-NN itself from the
compiler's ``__ARM_FEATURE_DSP`` (M4/M7/M33), the pure-C paths on M0/M3.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from armsim.errors import ToolchainError
from armsim.firmware.toolchain import (
    ar_for,
    cache_dir,
    content_hash,
    gcc_version,
    publish,
    run_tool,
)
from armsim.parts.cpus import CpuVariant

ENV = "ARMSIM_CMSIS_NN_DIR"
#: The commit armsim is tested with (the same as ../shared/third_party/CMSIS-NN/VERSION).
PINNED_COMMIT = "99f736a63036613032f9b70de36b493bcd7802d4"
REPOSITORY = "https://github.com/ARM-software/CMSIS-NN"
#: Flags CMSIS-NN's sources build with (its own code is not -Wextra clean).
FLAGS = ("-std=gnu11", "-Wno-unused-parameter")
_DEF = re.compile(r"^[A-Za-z_][\w \t\*]*?\b(arm_\w+)\s*\([^;]*?\)\s*\{", re.M | re.S)
_CALL = re.compile(r"\b(arm_\w+)\s*\(")
#: a constant table defined at file scope (arm_nntables.c: the s16 activations' LUTs)
_TABLE = re.compile(r"^const\s+\w+\s+(\w+)\s*\[", re.M)


@dataclass(frozen=True)
class CmsisNN:
    """A CMSIS-NN source tree and the commit it is."""

    root: Path
    commit: str

    @property
    def include(self) -> Path:
        """The public header directory."""
        return self.root / "Include"


def _candidates() -> list[Path]:
    here = Path(__file__).resolve()
    checkout = here.parents[2]
    out = []
    env = os.environ.get(ENV)
    if env:
        out.append(Path(env))
    out += [checkout.parent / "shared" / "third_party" / "CMSIS-NN",
            Path.cwd().parent / "shared" / "third_party" / "CMSIS-NN",
            cache_clone()]
    return out


def cache_clone() -> Path:
    """Where ``scripts/setup.sh`` clones the pinned commit when no copy is beside the
    checkout."""
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "armsim" / f"CMSIS-NN-{PINNED_COMMIT[:12]}"


def _commit(root: Path) -> str:
    version = root / "VERSION"
    if version.is_file():
        for line in version.read_text(errors="replace").splitlines():
            if line.startswith("commit:"):
                return line.split(":", 1)[1].strip()
    head = root / ".git" / "HEAD"
    if head.is_file():
        ref = head.read_text().strip()
        if ref.startswith("ref:"):
            p = root / ".git" / ref.split(" ", 1)[1]
            return p.read_text().strip() if p.is_file() else "unknown"
        return ref
    return "unknown"


def locate(required: bool = True) -> CmsisNN | None:
    """The CMSIS-NN tree, or (``required``) a ToolchainError saying where armsim looked."""
    env = os.environ.get(ENV)
    looked = _candidates()
    for p in looked:
        if (p / "Include" / "arm_nnfunctions.h").is_file() and (p / "Source").is_dir():
            return CmsisNN(p.resolve(), _commit(p))
        if env and p == Path(env):
            if required:
                raise ToolchainError(f"${ENV}={env} is not a CMSIS-NN tree (no "
                                     "Include/arm_nnfunctions.h)")
            return None
    if not required:
        return None
    raise ToolchainError(
        "CMSIS-NN not found: int8 models run on Arm's CMSIS-NN kernels. Looked in "
        + ", ".join(str(p) for p in looked)
        + f". Set ${ENV} to a checkout of {REPOSITORY} (commit {PINNED_COMMIT[:12]}), or run "
        "scripts/setup.sh where the network allows. float32 models do not need it.")


def version() -> str | None:
    """The CMSIS-NN commit found, or None (for reports' versions)."""
    c = locate(required=False)
    return c.commit if c else None


_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def _body_calls(text: str) -> set[str]:
    """arm_* calls inside function bodies (brace depth > 0): prototypes do not count."""
    out: set[str] = set()
    depth = 0
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", text, flags=re.S)  # doxygen's @{ @} too
    text = re.sub(r'extern\s+"C"\s*\{', "", text)  # a header's C++ guard is not a body
    for m in re.finditer(r"[{}]|\barm_\w+\s*\(", text):
        tok = m.group(0)
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth = max(depth - 1, 0)
        elif depth > 0:
            out.add(tok.split("(")[0].strip())
    return out


def _header_calls(root: Path, text: str, seen: set[Path]) -> set[str]:
    """arm_* calls made by the inline functions of the CMSIS-NN headers ``text`` includes
    (recursively; calls in function bodies only)."""
    out: set[str] = set()
    for name in _INCLUDE.findall(text):
        for d in (root / "Include", root / "Include" / "Internal"):
            h = d / name
            if h.is_file() and h not in seen:
                seen.add(h)
                body = h.read_text(errors="replace")
                out |= _body_calls(body) | _header_calls(root, body, seen)
                break
    return out


@lru_cache(maxsize=4)
def _index(root: Path) -> tuple[dict[str, Path], dict[Path, frozenset[str]]]:
    """Function -> defining file, and file -> the arm_* functions it (or an inline function
    of a header it includes) calls."""
    defs: dict[str, Path] = {}
    calls: dict[Path, frozenset[str]] = {}
    texts = {p: p.read_text(errors="replace") for p in sorted((root / "Source").rglob("*.c"))
             if not p.stem.endswith("_f16")}  # half precision: no target here has it
    tables = {m.group(1): p for p, text in texts.items() for m in _TABLE.finditer(text)}
    for p, text in texts.items():
        for m in _DEF.finditer(text):
            defs.setdefault(m.group(1), p)
        used = {t for t, where in tables.items() if where != p and
                re.search(rf"\b{t}\b", text)}  # a table it reads is a dependency too
        calls[p] = frozenset(_body_calls(text) | _header_calls(root, text, set()) | used)
    for t, p in tables.items():
        defs.setdefault(t, p)
    return defs, calls


def sources_for(cm: CmsisNN, functions: set[str]) -> list[Path]:
    """The CMSIS-NN source files that define ``functions`` and everything they call."""
    defs, calls = _index(cm.root)
    missing = sorted(f for f in functions if f not in defs and not _is_inline(cm, f))
    if missing:
        raise ToolchainError(f"CMSIS-NN at {cm.root} has no definition of "
                             f"{', '.join(missing)}")
    files: set[Path] = set()
    todo = [defs[f] for f in functions if f in defs]
    while todo:
        p = todo.pop()
        if p in files:
            continue
        files.add(p)
        todo += [defs[f] for f in calls[p] if f in defs and defs[f] not in files]
    return sorted(files)


@lru_cache(maxsize=64)
def _is_inline(cm: CmsisNN, name: str) -> bool:
    """True for functions defined in CMSIS-NN's headers (static inline)."""
    return any(re.search(rf"\b{name}\s*\(", p.read_text(errors="replace"))
               for p in cm.include.rglob("*.h"))


def called(c_source: str) -> set[str]:
    """The arm_* functions a C source calls."""
    return set(_CALL.findall(c_source))


def referenced(c_source: str) -> set[str]:
    """The CMSIS-NN functions and constant tables a C source names (armsim's own kernels
    read CMSIS-NN's tables: sigmoid_table_uint16)."""
    cm = locate()
    if cm is None:
        return set()
    defs, _calls = _index(cm.root)
    return {w for w in set(re.findall(r"\b[A-Za-z_]\w*\b", c_source)) if w in defs}


def library(cpu: CpuVariant, functions: set[str], gcc: str, defines: tuple[str, ...] = ()
            ) -> tuple[Path, list[Path]]:
    """A static library of the CMSIS-NN sources ``functions`` need, built for ``cpu``
    with ``defines`` (cached by the sources' contents and the flags). Returns (library,
    sources)."""
    cm = locate()
    assert cm is not None
    srcs = sources_for(cm, functions)
    flags = tuple(f for f in cpu.all_flags if f not in ("-std=c11", "-Wextra")) + FLAGS + defines
    headers = sorted(cm.include.rglob("*.h"))
    key = content_hash(gcc_version(gcc), " ".join(flags), cm.commit,
                *[str(p.relative_to(cm.root)) for p in srcs], *[p.read_bytes() for p in srcs],
                *[p.read_bytes() for p in headers])
    out_dir = cache_dir() / f"cmsis-nn-{cpu.name}-{key}"
    lib = out_dir / "libcmsis-nn.a"
    if lib.is_file():
        return lib, srcs
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tmp-", dir=out_dir.parent))
    try:
        objs = []
        for k, src in enumerate(srcs):
            obj = work / f"{k:03d}_{src.stem}.o"
            run_tool([gcc, *flags, "-I", str(cm.include), "-c", str(src), "-o", str(obj)],
                 f"compiling CMSIS-NN {src.name} for {cpu.title}")
            objs.append(str(obj))
        (work / "sources.txt").write_text(
            f"CMSIS-NN {cm.commit} at {cm.root}\n" + "".join(f"{p}\n" for p in srcs))
        run_tool([ar_for(gcc), "rcs", str(work / "libcmsis-nn.a"), *objs], "archiving CMSIS-NN")
        publish(work, out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return lib, srcs
