"""Executors: map a pure function over a batch, locally or on a Ray cluster.

Experiments hand an executor a picklable function and a list of items (each
carrying its own seed) and get the results back in order, so the choice of
executor never changes a result. ``get_executor("local")`` uses processes on
this machine; ``get_executor("ray", address=...)`` a Ray cluster.
"""

from primordium.exec.base import Executor, get_executor

__all__ = ["Executor", "get_executor"]
