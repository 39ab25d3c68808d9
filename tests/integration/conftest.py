"""Fixtures shared by the integration tests."""

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """Where notify_peers' memory lives: an SQLite file, or a fresh database on the lab's PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    return request.getfixturevalue("postgresql_dsn")
