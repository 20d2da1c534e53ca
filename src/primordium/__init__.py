"""primordium: a laboratory for open-ended artificial life."""

__version__ = "0.1.0"
