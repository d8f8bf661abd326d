"""Benchmarks: `python -m bench.delivery`."""
