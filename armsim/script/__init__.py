"""uVision debugger scripts (``.ini``): the lexer and parser (``lexer``, ``parser``,
``cmdparse``, ``exprparse``) build a ``program``; the ``runner`` interprets it against a
target (``memory_target``, or the emulated CPU: ``target``); ``check`` compares the writes
with a plan, ``writer`` exports a plan as a script, ``setup`` runs a script's set-up for
the commands, ``load`` reads memory-only scripts.

The names below are found lazily (``armsim.script.parse_text`` and friends)."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"parse_file": "armsim.script.load", "parse_text": "armsim.script.load",
         "parse_program": "armsim.script.parser", "Script": "armsim.script.model",
         "KINDS": "armsim.script.model", "WriteKind": "armsim.script.model"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'armsim.script' has no attribute {name!r}")


__all__ = sorted(_LAZY)
