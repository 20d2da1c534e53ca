"""Learned simulators: a small GPT trainer (PyTorch), LifeGPT, and NCA pre-pre-training."""

from __future__ import annotations

import importlib.util

# `primordium quickstart` finds an engine's demo here; without PyTorch (the
# learn extra) there is none, rather than one that fails.
if importlib.util.find_spec("torch") is not None:

    def quickstart_run(store, seed: int = 0, progress=None):
        from primordium.learn.lifegpt import quickstart_run as run

        return run(store, seed=seed, progress=progress)
