"""Firmware from a plan: rendered C sources (``render``, ``render_s8``, ``header``), the
toolchain and build cache (``toolchain``), armsim's kernel libraries (``kernels``), the
CMSIS-NN closure (``cmsis``), linking (``link``), CMSIS-NN scratch sizing on the emulator
(``scratch``), the user's own sources (``sources``) and the whole build (``build``)."""
