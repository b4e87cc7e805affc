"""uVision debugger scripts (``.ini``): parse, check against the layout, and write."""

from __future__ import annotations

from .model import KINDS, Script, WriteKind
from .parser import parse_file, parse_text

__all__ = ["KINDS", "Script", "WriteKind", "parse_file", "parse_text"]
