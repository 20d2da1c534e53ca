"""`primordium quickstart`: a short offline run of each engine, into the store."""

from __future__ import annotations


def quickstart() -> None:
    """Run a short demo of each engine (offline) into the run store."""
    print("quickstart: nothing yet")
