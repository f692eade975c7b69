"""Mutation testing of the pure core with mutmut: which modules, by which tests, and what survived."""
