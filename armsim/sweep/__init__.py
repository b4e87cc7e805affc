"""Design-space sweeps: a TOML grid of cells run as Dask tasks into a SQLite store."""
