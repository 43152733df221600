"""Benchmarks of tb-rnngrad; `python -m bench [--quick]` runs them all.

See docs/benchmarks.md for what each one measures and its latest results.
"""
