"""Benchmarks (scripts that print numbers; never timed tests). See docs/performance.md."""
