"""What config.check refuses a document with: the one way the runner's tests read a ConfigError's text."""

import pytest

from peerwarden_runner import config


def problems(document, source="runner.yml"):
    """The text of the ConfigError that config.check raises for `document` read from `source` (it must raise)."""
    with pytest.raises(config.ConfigError) as error:
        config.check(document, source)
    return str(error.value)
