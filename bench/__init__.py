"""Benchmarks run by hand (`make bench`); results in RESULTS.md."""
