"""Old module paths of armsim (before the package redesign) for code written against them:
``import armsim.emulator`` gives :mod:`armsim.machine.emulator`, and so on. Each old name is
the same module object as the new one. New code should import the new paths
(ARCHITECTURE.md lists them); ``armsim.profile`` is the profile function, not a module."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType
from typing import Any, Sequence

#: Old module -> new module.
RENAMED = {
    "armsim.cpus": "armsim.parts.cpus", "armsim.mcu": "armsim.parts.mcus",
    "armsim.memory": "armsim.parts.memory", "armsim.flash": "armsim.parts.flash",
    "armsim.cycles": "armsim.timing.cycles", "armsim.pipeline": "armsim.timing.pipeline",
    "armsim.datamem": "armsim.timing.datamem",
    **{f"armsim.{m}": f"armsim.machine.{m}" for m in (
        "engine", "elf", "disasm", "emulator", "tlb", "counting", "alignment", "bounds",
        "memcheck", "semihost", "peripherals", "debugregs", "crash")},
    "armsim.frontends": "armsim.model.frontends",
    "armsim.frontends.keras": "armsim.model.frontends.keras",
    "armsim.frontends.tflite": "armsim.model.frontends.tflite",
    "armsim.host": "armsim.model.keras_host", "armsim.tflite_host": "armsim.model.tflite_host",
    "armsim.reference": "armsim.model.reference", "armsim.mnist": "armsim.model.mnist",
    "armsim.zoo": "armsim.model.zoo", "armsim.train": "armsim.model.train",
    "armsim.quantize": "armsim.model.quantize", "armsim._tf": "armsim.model.tfimport",
    "armsim.metrics": "armsim.model.metrics",
    "armsim.codegen": "armsim.firmware", "armsim.codegen.firmware": "armsim.firmware.build",
    **{f"armsim.codegen.{m}": f"armsim.firmware.{m}" for m in (
        "cmsis", "render", "render_s8", "sources", "header")},
    "armsim.image_run": "armsim.session.image_run", "armsim.regress": "armsim.session.regress",
    "armsim.compare": "armsim.check.compare", "armsim.diagnose": "armsim.check.diagnose",
    "armsim.validate": "armsim.check.validate", "armsim.dask_engine": "armsim.check.dask",
    "armsim.cli.render": "armsim.report.tables",
}


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: Any) -> ModuleType:
        module = importlib.import_module(self.target)
        self._spec = module.__spec__  # the import system writes the alias spec over it
        return module

    def exec_module(self, module: ModuleType) -> None:
        """The module is the new one, already executed: give it its own spec back."""
        module.__spec__ = self._spec


class _CallableProfile(ModuleType):
    """``armsim.profile`` imported as the old module: its names are those of
    :mod:`armsim.session.profile`, and calling it calls the profile function (what the
    attribute ``armsim.profile`` is), so the old import cannot turn the function into a
    module."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("armsim.session.profile"), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return importlib.import_module("armsim.session.profile").profile(*args, **kwargs)


class _ProfileLoader(importlib.abc.Loader):
    def create_module(self, spec: Any) -> ModuleType:
        return _CallableProfile("armsim.profile", _CallableProfile.__doc__)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the names come from armsim.session.profile."""


class OldPaths(importlib.abc.MetaPathFinder):
    """Finds an old armsim module path and hands out the module it became."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> Any:
        if fullname == "armsim.profile":
            return importlib.util.spec_from_loader(fullname, _ProfileLoader())
        new = RENAMED.get(fullname)
        if new is None:
            return None
        spec = importlib.util.find_spec(new)
        alias = importlib.util.spec_from_loader(fullname, _Alias(new),
                                                is_package=spec is not None and
                                                spec.submodule_search_locations is not None)
        return alias


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, OldPaths) for f in sys.meta_path):
        sys.meta_path.insert(0, OldPaths())  # before a stale folder of an old install
