"""primordium: a laboratory for open-ended artificial life."""


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
