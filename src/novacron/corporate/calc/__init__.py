"""Stateless calculations of the finance engine over HTTP and the CLI."""
