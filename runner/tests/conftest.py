"""Shared by every runner test: the one log summariser starts each test with nothing counted, so that no
test reads another's counts (most test sessions share the name "session")."""

import pytest

from peerwarden_runner.log_summary import DECISIONS


@pytest.fixture(autouse=True)
def _no_counts_from_other_tests():
    DECISIONS.counts.clear()
    yield
    DECISIONS.counts.clear()
