"""peerwarden's runner: a BGP proxy / monitor / speaker (see runner/README.md)."""

__version__ = "0.1.0"
