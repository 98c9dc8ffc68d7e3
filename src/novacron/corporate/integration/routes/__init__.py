"""REST routes of integration programmes, one module per area, all mounted by ``api.py``."""
