"""Flash timing per part: wait states from the clock, and what hides them (prefetch, the ART
accelerator or a cache), as the cycle estimate applies them (cycles.estimate, ``fetch``).

Each table is the part's reference manual's (cited beside it). A part with no table here
(``generic``, ``large``, ``rp2040``'s XIP flash) is costed with zero wait states.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from armsim.errors import ArmsimError


@dataclass(frozen=True)
class FlashTiming:
    """How a part's flash answers instruction fetches and literal loads.

    Attributes:
        max_mhz: the highest core clock for 0, 1, 2, ... wait states
        reset_mhz: the core clock out of reset
        accel: what hides wait states: "art" (STM32 ART accelerator: prefetch and an
            instruction cache), "accelerator" (LPC17xx flash accelerator), "cache" (a flash
            cache); all three are costed as a cache
        accel_at_reset: the accelerator's state out of reset
        line_bytes: bytes one flash read returns (a new line costs the wait states)
        source: where the table comes from
        accel_usual: its state in the usual set-up at the part's usual clock (the MCU
            preset's ``clock_hz``): what the vendor's start-up code leaves on
        usual_source: where that comes from
    """

    max_mhz: tuple[float, ...]
    reset_mhz: float
    accel: str
    accel_at_reset: bool
    line_bytes: int
    source: str
    accel_usual: bool = True
    usual_source: str = ""


FLASH: dict[str, FlashTiming] = {
    "stm32f407": FlashTiming((30, 60, 90, 120, 150, 168), 16, "art", False, 16,
                             "RM0090 3.5.1, table 10 (2.7-3.6 V); FLASH_ACR resets to 0: "
                             "prefetch, instruction and data caches off", True,
                             "STM32CubeF4 HAL_Init turns the prefetch and both caches on "
                             "(PREFETCH_ENABLE, INSTRUCTION_CACHE_ENABLE, DATA_CACHE_ENABLE in "
                             "its hal_conf template)"),
    "stm32f746": FlashTiming((30, 60, 90, 120, 150, 180, 210, 216), 16, "art", False, 32,
                             "RM0385 3.3.2, table 7 (2.7-3.6 V); ART and prefetch off at reset",
                             True, "STM32CubeF7 HAL_Init turns the ART accelerator and the "
                             "prefetch on (ART_ACCLERATOR_ENABLE, PREFETCH_ENABLE)"),
    "lpc1768": FlashTiming((20, 40, 60, 80, 100), 4, "accelerator", True, 16,
                           "UM10360 5.4, FLASHCFG (FLASHTIM + 1 clocks per access); the "
                           "accelerator is on at reset", True, "left on (reset state)"),
    "samd21g18": FlashTiming((24, 48), 1, "cache", True, 8,
                             "SAM D21 datasheet, NVM characteristics: 0 wait states up to 24 "
                             "MHz, 1 up to 48 MHz; the NVM cache is on at reset", True,
                             "left on (reset state)"),
    "nrf52840": FlashTiming((64,), 64, "cache", False, 16,
                            "nRF52840 PS 4.3.2: no wait states at 64 MHz; the cache (ICACHECNF) "
                            "is off at reset", True, "Zephyr and the nRF Connect SDK turn "
                            "the instruction cache on (CONFIG_NRF_ENABLE_ICACHE)"),
}


@dataclass(frozen=True)
class Fetch:
    """The flash timing a cycle estimate applies.

    Attributes:
        wait_states: cycles a new flash line costs
        mode: "prefetch" (sequential fetch hidden; taken branches and literal loads pay),
            "lines" (every line an executed block spans pays, and every literal load), or
            "cache" (each block pays its lines and literal loads once: later passes hit)
        line_bytes: bytes per flash line
        note: how the figures were chosen, for reports
    """

    wait_states: int
    mode: str = "prefetch"
    line_bytes: int = 16
    note: str = ""
    #: the core clock the estimate's latency is at (MHz); None: not stated
    clock_mhz: float | None = None
    #: the accelerator or cache state ("art on", "cache off"; "" where the part has none)
    accel: str = ""


NONE = Fetch(0, "prefetch", 16, "no flash wait states")
#: The set-ups a default can take: what deployed firmware usually runs ("usual": the part's
#: usual clock, with the accelerator its vendor's start-up turns on) or the reset state.
SETUPS = ("usual", "reset")


def fetch_for(mcu: str, clock_mhz: float | None = None, accel: str | None = None,
              setup: str = "usual", usual_mhz: float | None = None) -> Fetch:
    """The flash timing of preset ``mcu`` at ``clock_mhz`` with the accelerator ``accel``
    "on" or "off"; what is not given comes from ``setup``: "usual" (the part's usual clock,
    ``usual_mhz``, the MCU preset's ``clock_hz``, with the accelerator state that goes with
    it) or "reset" (the reset clock and state)."""
    ft = FLASH.get(mcu)
    if ft is None:
        if clock_mhz is not None or accel is not None:
            raise ArmsimError(f"MCU preset '{mcu}' has no flash timing table: --clock-mhz and "
                              f"--flash-accel apply to {', '.join(sorted(FLASH))}")
        return NONE
    usual = setup == "usual"
    default_mhz = (usual_mhz or ft.max_mhz[-1]) if usual else ft.reset_mhz
    mhz = default_mhz if clock_mhz is None else clock_mhz
    if not 0 < mhz <= ft.max_mhz[-1]:
        raise ArmsimError(f"--clock-mhz {mhz:g}: {mcu} runs at most at {ft.max_mhz[-1]:g} MHz")
    ws = next(k for k, top in enumerate(ft.max_mhz) if mhz <= top)
    on = (ft.accel_usual if usual else ft.accel_at_reset) if accel is None else accel == "on"
    mode = "cache" if on else "lines"
    state = f"{ft.accel} {'on' if on else 'off'}"
    why = ("" if accel is not None else
           f" (usual set-up: {ft.usual_source})" if usual else " (reset default)")
    return Fetch(ws, mode, ft.line_bytes,
                 f"{mcu} at {mhz:g} MHz: {ws} flash wait state{'s' if ws != 1 else ''}, "
                 f"{state}{why}; {ft.source}", mhz, state)


#: The Cortex-M7's L1 instruction cache: 32-byte lines (DDI 0489 "L1 caches"); off out of
#: reset (CCR.IC = 0), turned on by SCB_EnableICache() in a typical SystemInit/main.
ICACHE_LINE = 32
#: presets whose core has it (a Cortex-M7)
ICACHE_PARTS = ("stm32f746",)


def with_icache(fetch: Fetch, mcu: str, icache: str | None) -> Fetch:
    """``fetch`` with the M7's L1 instruction cache "on" or "off" (None: as given, off out
    of reset). On, code fetched from flash misses once per 32-byte line and then hits,
    whatever the flash accelerator does."""
    if icache is None:
        return fetch
    if mcu not in ICACHE_PARTS:
        raise ArmsimError(f"--icache: MCU preset '{mcu}' has no L1 instruction cache (a "
                          f"Cortex-M7's; parts with one: {', '.join(ICACHE_PARTS)})")
    if icache == "off":
        return replace(fetch, note=fetch.note + "; L1 I-cache off")
    return replace(fetch, mode="cache", line_bytes=ICACHE_LINE,
                   note=fetch.note + "; L1 I-cache on (each 32-byte line of code misses once)",
                   accel=(fetch.accel + ", " if fetch.accel else "") + "icache on")


def usual_fetch(mcu: str, clock_hz: float, clock_mhz: float | None = None,
                accel: str | None = None) -> Fetch:
    """The flash timing and latency clock of MCU preset ``mcu`` (whose usual clock is
    ``clock_hz``) as every command takes it by default: its table at ``clock_mhz`` (default
    the usual clock) with ``accel`` (default the usual state); a part without a table has no
    wait states, and ``clock_mhz`` (default its usual, or for generic and large a stated
    nominal, clock) is only its latency's clock."""
    if mcu in FLASH:
        return fetch_for(mcu, clock_mhz, accel, "usual", clock_hz / 1e6)
    if accel is not None:
        raise ArmsimError(f"--flash-accel: MCU preset '{mcu}' has no flash timing table "
                          f"(parts with one: {', '.join(sorted(FLASH))})")
    mhz = clock_mhz or clock_hz / 1e6
    nominal = "" if clock_mhz else (" (a nominal clock: this preset is no real part)"
                                    if mcu in ("generic", "large") else " (its usual clock)")
    return Fetch(0, "prefetch", 16, f"{mcu} at {mhz:g} MHz{nominal}: no flash wait states", mhz)
