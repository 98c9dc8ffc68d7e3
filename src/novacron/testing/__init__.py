"""Test harness: real servers and agents on 127.0.0.1, for the test suite and benchmarks.

``Cluster`` runs a server (uvicorn in a thread, real workers) and an agent as a
separate process speaking real HTTP, on SQLite or PostgreSQL.
"""
