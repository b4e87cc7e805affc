"""The results store: one SQLite file, one row per cell, committed as each cell finishes.

pandas (``read_sql("select * from cells", sqlite3.connect(path))``) and DuckDB
(``sqlite_scan``) read it as it is. WAL journaling keeps it consistent if the sweep is
interrupted: a cell is in it whole or not at all.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Iterable

from armsim.sweep.cell import RESULT_COLUMNS, CellResult

KEY_COLUMNS = ("model", "dtype", "cpu", "kernels", "opt", "mcu", "runtime")
TYPES = {"agreement": "REAL", "accuracy": "REAL", "max_abs_diff": "REAL",
         "instructions": "INTEGER", "cycles_estimate": "REAL", "flash_bytes": "INTEGER",
         "ram_bytes": "INTEGER", "peak_stack_bytes": "INTEGER", "seconds": "REAL",
         "n_inputs": "INTEGER", "clock_mhz": "REAL", "latency_ms": "REAL"}
COLUMNS = KEY_COLUMNS + RESULT_COLUMNS + ("hash", "finished")


class Store:
    """``DIR/results.sqlite``, table ``cells``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=WAL")
        cols = ", ".join(f"{c} {TYPES.get(c, 'TEXT')}" for c in KEY_COLUMNS + RESULT_COLUMNS)
        self.db.execute(f"CREATE TABLE IF NOT EXISTS cells ({cols}, hash TEXT PRIMARY KEY, "
                        "finished TEXT DEFAULT CURRENT_TIMESTAMP)")
        have = {r[1] for r in self.db.execute("PRAGMA table_info(cells)")}
        if "runtime" not in have:  # a store from before the runtime axis: armsim's cells
            self.db.execute("ALTER TABLE cells ADD COLUMN runtime TEXT DEFAULT 'armsim'")
        for c in RESULT_COLUMNS:  # a store from before a result column: empty there
            if c not in have:
                self.db.execute(f"ALTER TABLE cells ADD COLUMN {c} {TYPES.get(c, 'TEXT')}")
        self.db.commit()

    def hashes(self) -> set[str]:
        """Hashes of the cells stored."""
        return {h for (h,) in self.db.execute("SELECT hash FROM cells")}

    def put(self, cell: CellResult) -> None:
        """Store one finished cell (replacing an older row of the same hash), committed."""
        row = cell.to_row()
        cols = [c for c in KEY_COLUMNS + RESULT_COLUMNS + ("hash",)]
        self.db.execute(f"INSERT OR REPLACE INTO cells ({', '.join(cols)}) VALUES "
                        f"({', '.join('?' for _ in cols)})", [row.get(c) for c in cols])
        self.db.commit()

    def rows(self, hashes: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Every row (or those of ``hashes``) as dicts, in key order."""
        cur = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM cells ORDER BY "
                              f"{', '.join(KEY_COLUMNS)}")
        out = [dict(zip(COLUMNS, r)) for r in cur]
        if hashes is not None:
            want = set(hashes)
            out = [r for r in out if r["hash"] in want]
        return out

    def close(self) -> None:
        """Close the database."""
        self.db.close()
