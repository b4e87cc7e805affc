"""Rendering, kept apart from the work: terminal tables (``tables``), self-contained HTML
pages (``html``). It takes result objects and imports no command."""
