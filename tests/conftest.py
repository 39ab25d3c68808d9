"""Shared pytest configuration: the lab fixtures live in tests/lab/ (one file per kind of part)."""
pytest_plugins = ["lab.cli_doubles", "lab.daemons"]
