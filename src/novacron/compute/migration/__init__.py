"""Live migration: the pure policy and model (no database, HTTP or driver code in
``policy`` and ``model``), and the server's orchestration of it."""
