"""The SQL of the service as package data: `sql/<dialect>/NNN_*.sql` migrations and one file per named query,
in `sql/common/` where the dialects agree (rendered per dialect) and in each `sql/<dialect>/` where they differ.

Python never holds SQL text; `adapters.store.sql_loader` reads these files by name, from a source tree or an
installed wheel.
"""
