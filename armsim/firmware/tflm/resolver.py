"""Which operators TFLM registers, and how: read from the pinned tree's
``MicroMutableOpResolver`` (each ``AddXxx()`` method registers one builtin operator or one
custom op by name), so the resolver armsim generates holds exactly a model's operators, and
an operator TFLM lacks is refused before any build with TFLM's own words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from armsim.firmware.tflm.tree import Tree

_METHOD = re.compile(r"TfLiteStatus\s+(Add\w+)\s*\(")
_BUILTIN = re.compile(r"BuiltinOperator_(\w+)")
_CUSTOM = re.compile(r'AddCustom\(\s*"([^"]+)"')


@dataclass(frozen=True)
class Registrations:
    """TFLM's resolver methods: builtin operator name -> method, custom op name -> method."""

    builtin: dict[str, str]
    custom: dict[str, str]

    def method(self, op: str, custom: bool) -> str | None:
        """The ``AddXxx`` method registering ``op`` (None: TFLM has no kernel for it)."""
        return (self.custom if custom else self.builtin).get(op)


@lru_cache(maxsize=4)
def _read(header: Path) -> Registrations:
    text = header.read_text()
    builtin: dict[str, str] = {}
    custom: dict[str, str] = {}
    starts = [m for m in _METHOD.finditer(text) if m.group(1) not in ("AddCustom", "AddBuiltin")]
    for k, m in enumerate(starts):
        body = text[m.end():starts[k + 1].start() if k + 1 < len(starts) else len(text)]
        if "GetString_ETHOSU" in body:
            custom["ethos-u"] = m.group(1)
            continue
        c = _CUSTOM.search(body)
        b = _BUILTIN.search(body)
        if c and (not b or c.start() < b.start()):
            custom[c.group(1)] = m.group(1)
        elif b:
            builtin[b.group(1)] = m.group(1)
    return Registrations(builtin, custom)


def registrations(tree: Tree) -> Registrations:
    """The registrations of the pinned TFLM."""
    return _read(tree.micro / "micro_mutable_op_resolver.h")
