"""The web UI: shared templates, static assets and helpers; ``app.mount`` adds it to the server."""
