"""Where the ASAL paper's code is (../shared/reference/asal) and how the tests import it."""

from __future__ import annotations

import importlib
import os
import sys
import types
from pathlib import Path

SHARED = Path(
    os.environ.get("PRIMORDIUM_SHARED", Path(__file__).resolve().parents[2].parent / "shared")
)
REF = SHARED / "reference" / "asal"


def import_reference(*names: str) -> list[types.ModuleType]:
    """Import top-level modules of the reference (``substrates``, ``asal_metrics``, ...).

    The reference's ``substrates/__init__`` imports evosax for one wrapper the
    tests never call. The real evosax (0.3, a test dependency) imports fine;
    only where it is missing does a bare stand-in take its place, so no other
    test ever finds a stub where the real package should be.
    """
    try:
        import evosax  # noqa: F401
    except ImportError:
        sys.modules.setdefault("evosax", types.ModuleType("evosax"))
    if str(REF) not in sys.path:
        sys.path.insert(0, str(REF))
    return [importlib.import_module(n) for n in names]
