"""Benchmarks: each module runnable with `python -m bench.NAME`, printing a table."""
