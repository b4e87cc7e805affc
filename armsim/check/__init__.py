"""Checks of the emulator against the host: comparison of outputs (``compare``), validation
over many inputs (``validate``, in processes or on Dask: ``dask``), and the diagnosis of a
disagreement (``diagnose``: the first op that diverges, layout mistakes)."""
