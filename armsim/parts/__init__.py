"""Parts as data: CPU variants (``cpus``), MCU presets with their memories and clocks
(``mcus``, ``memory``) and their flash timing (``flash``). Everything above reads these
tables; nothing here runs or builds anything."""
