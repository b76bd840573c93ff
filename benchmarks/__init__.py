"""Benchmarks against Home Assistant's own ollama integration (scripts/benchmark)."""
