"""Stages of the pipeline. A route stage (rpki, limit) has update(state, direction, change); a
watcher (archive, metrics) has crossed(state, direction, raw). All have session_started,
session_ended and close."""


class Stage:
    """Defaults for the hooks a stage does not need."""

    name = "stage"

    def session_started(self, state):
        pass

    def session_ended(self, state):
        pass

    def close(self):
        pass
