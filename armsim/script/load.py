"""Scripts that only write memory (the seed's ``_WFLOAT`` files): parse and run one against a
plain memory target, and keep its writes in source order."""

from __future__ import annotations

import os

from armsim.script.memory_target import MemoryTarget
from armsim.script.model import Script
from armsim.script.parser import decode, parse_lines, parse_program
from armsim.script.runner import Runner

__all__ = ["parse_file", "parse_text", "parse_program"]


def parse_file(path: str | os.PathLike[str]) -> Script:
    """Parse and run a memory-only script file; its writes in source order."""
    return Runner(parse_program(path), MemoryTarget()).run().writes


def parse_text(text: str, path: str = "<script>") -> Script:
    """Parse and run memory-only script text; its writes in source order."""
    program = parse_lines(decode(text.encode("utf-8"), path), path)
    return Runner(program, MemoryTarget()).run().writes
