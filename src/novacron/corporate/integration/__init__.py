"""Integration programmes generated when a deal closes."""
