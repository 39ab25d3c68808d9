"""The three route origin validation states of RFC 6811 §2."""

from enum import StrEnum


class RouteValidity(StrEnum):
    """A StrEnum so that results compare equal to the plain words ("valid" == VALID) used in
    configuration, logs and metrics labels, while staying cheap to return (no allocation)."""

    VALID = "valid"
    INVALID = "invalid"
    NOT_FOUND = "notfound"
