"""The emulated chip: Unicorn with a Cortex-M CPU model and an MCU preset's memory map
(``emulator``), exact instruction counts (``counting`` and the native ``_blockcount``), the
checks a chip makes (``alignment``, FPU gate, fault hooks, ``tlb``) and those a board cannot
(``bounds``, ``memcheck``), semihosting, ITM/DWT, unmodelled peripherals, crash reports and
ELF loading. Nothing here builds firmware or knows a model."""
