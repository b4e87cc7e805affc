"""Firmware from a plan: rendered C sources and the cached cross build."""

from __future__ import annotations

from armsim.codegen.firmware import DEFAULT_KERNELS, KERNEL_SETS, Build, build, kernel_sources, kernels_dir
from armsim.codegen.render import FINISH, NETWORK, op_symbol

__all__ = ["Build", "build", "kernel_sources", "kernels_dir", "op_symbol", "FINISH", "NETWORK",
           "KERNEL_SETS", "DEFAULT_KERNELS"]
