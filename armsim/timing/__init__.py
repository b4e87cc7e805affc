"""Cycle estimates: the per-core pipeline models (``pipeline``), the sum over a run's exact
block counts (``cycles``) and the M7's data-memory costs (``datamem``). Below the machine:
the emulator's cycle clock (DWT CYCCNT, SIGNAL functions) reads these."""
