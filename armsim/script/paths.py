"""Where a script's file arguments (LOAD, INCLUDE) may point: inside the script's folder, or
above it up to its project's root (the nearest folder that holds a µVision project file,
``*.uvprojx``/``*.uvproj``, or a ``.git``: µVision projects keep their scripts in a
subfolder and name ``..\\Objects\\app.axf``), or inside a folder the user allowed
(``--allow-path DIR``). Nothing else on the host is read."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from armsim.errors import ScriptError

#: Folders the user allowed with --allow-path (for this run).
_ALLOWED: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar(
    "armsim_allowed_paths", default=())
#: Files that mark a project's root folder.
PROJECT_MARKERS = ("*.uvprojx", "*.uvproj", ".git")


@contextmanager
def allowed(folders: Iterable[str | os.PathLike[str]]) -> Iterator[None]:
    """Scripts may also read files inside ``folders`` while this is active."""
    token = _ALLOWED.set(tuple(Path(f).resolve() for f in folders))
    try:
        yield
    finally:
        _ALLOWED.reset(token)


def project_root(base_dir: str | os.PathLike[str]) -> Path | None:
    """The nearest folder at or above ``base_dir`` holding a µVision project file or a .git."""
    here = Path(base_dir).resolve()
    for d in (here, *here.parents):
        if any(next(d.glob(m), None) is not None for m in PROJECT_MARKERS):
            return d
    return None


def _inside(p: Path, folder: Path) -> bool:
    return p == folder or folder in p.parents


def resolve_inside(path: str, base_dir: str, what: str = "LOAD") -> Path:
    """A path resolved against the script's folder; refused if absolute, if it leaves that
    folder's project (and every --allow-path folder), or if no such file exists (the message
    names what the script would need)."""
    rel = path.replace("\\\\", "\\").replace("\\", "/")
    if os.path.isabs(rel) or (len(rel) > 1 and rel[1] == ":"):
        raise ScriptError(f"{what} {path}: absolute paths are refused; give a path relative to "
                          "the script's folder" + (" (or the program as %L: --elf)"
                                                   if what == "LOAD" else ""))
    base = Path(base_dir).resolve()
    p = (base / rel).resolve()
    if not _inside(p, base):
        root = project_root(base)
        ok = (root is not None and _inside(p, root)) or \
            any(_inside(p, a) for a in _ALLOWED.get())
        if not ok:
            where = (f"and its project {root}" if root is not None else
                     "(no folder above it holds a *.uvprojx, *.uvproj or .git to mark its "
                     "project)")
            raise ScriptError(f"{what} {path}: resolves to {p}, outside the script's folder "
                              f"{base} {where}; pass --allow-path DIR to let scripts read "
                              "there" + (" (or load the program as %L: --elf)"
                                         if what == "LOAD" else ""))
    if not p.is_file():
        raise ScriptError(f"{what} {path}: file not found ({p})")
    return p


def outside_note(p: Path, base_dir: str) -> str:
    """" (read from P, above the script's folder ...)" for a file outside the script's
    folder, else ""."""
    base = Path(base_dir).resolve()
    if _inside(p, base):
        return ""
    root = project_root(base)
    why = (f"inside its project {root}" if root is not None and _inside(p, root)
           else "in a folder --allow-path allows")
    return f" (read from {p}, above the script's folder, {why})"
