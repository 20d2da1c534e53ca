"""primordium: a laboratory for open-ended artificial life."""

import os

# numba's parallel kernels (battles, soups) on its own thread pool rather than
# OpenMP: after an OpenMP kernel had run, PyTorch's OpenMP threads in the same
# process crawled (the quickstart's LifeGPT step: 18 s alone, over 10 min after
# a tournament; 24 s with this). Kernel speed is the same (a 14-warrior
# tournament: 9.8-10.9 s on either). A user's own setting wins.
os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")


def __getattr__(name: str) -> str:
    # Looked up on first use, so `import primordium` (every CLI start) does not read metadata.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            # The one version number is pyproject.toml's, as the installed package records it.
            return version("primordium")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0+unknown"
    raise AttributeError(f"module 'primordium' has no attribute {name!r}")
