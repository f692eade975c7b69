"""Benchmarks, run as scripts inside the project venv: `python bench/<name>.py [--quick]`."""
