"""ASAL experiments: search, sweep and render, written to the run store."""
