"""Benchmarks; run them by hand, results are quoted in the README."""
