"""uVision debugger scripts (``.ini``): parse, run against a target, check against a plan."""

from __future__ import annotations

import os

from armsim.script.model import KINDS, Script, WriteKind
from armsim.script.parser import decode, parse_lines, parse_program
from armsim.script.runner import MemoryTarget, Runner


def parse_file(path: str | os.PathLike[str]) -> Script:
    """Parse and run a memory-only script file; its writes in source order."""
    return Runner(parse_program(path), MemoryTarget()).run().writes


def parse_text(text: str, path: str = "<script>") -> Script:
    """Parse and run memory-only script text; its writes in source order."""
    program = parse_lines(decode(text.encode("utf-8"), path), path)
    return Runner(program, MemoryTarget()).run().writes


__all__ = ["KINDS", "Script", "WriteKind", "parse_file", "parse_text", "parse_program"]
