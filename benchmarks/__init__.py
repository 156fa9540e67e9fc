"""Benchmarks: `python -m benchmarks` prints every figure as a table and as JSON."""
