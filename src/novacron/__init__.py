"""NovaCron: run real virtual machines across a fleet of Linux hosts."""

__version__ = "0.1.0"
