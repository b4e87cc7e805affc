"""Where a script's file arguments (LOAD, INCLUDE) may point: inside the script's folder."""

from __future__ import annotations

import os
from pathlib import Path

from armsim.errors import ScriptError


def resolve_inside(path: str, base_dir: str, what: str = "LOAD") -> Path:
    """A path resolved against the script's folder; refused if absolute, if it leaves that
    tree, or if no such file exists (the message names what the script would need)."""
    rel = path.replace("\\\\", "\\").replace("\\", "/")
    if os.path.isabs(rel) or (len(rel) > 1 and rel[1] == ":"):
        raise ScriptError(f"{what} {path}: absolute paths are refused; give a path relative to "
                          "the script's folder" + (" (or the program as %L: --elf)"
                                                   if what == "LOAD" else ""))
    base = Path(base_dir).resolve()
    p = (base / rel).resolve()
    if p != base and base not in p.parents:
        raise ScriptError(f"{what} {path}: resolves to {p}, outside the script's folder {base}"
                          + (" (load the program as %L: --elf)" if what == "LOAD" else ""))
    if not p.is_file():
        raise ScriptError(f"{what} {path}: file not found ({p})")
    return p
