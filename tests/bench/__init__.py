"""Benchmarks (run as scripts, never collected by pytest): ``python tests/bench/engine.py``."""
