"""armsim: check Cortex-M neural-network kernels against Keras, in the Unicorn emulator."""

from __future__ import annotations

__version__ = "0.1.0"
