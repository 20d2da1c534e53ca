"""One version number: pyproject.toml's, printed by `primordium --version`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import primordium

REPO = Path(__file__).resolve().parents[1]


def test_version_is_pyprojects_and_the_cli_prints_it(cli):
    expected = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert primordium.__version__ == expected
    code, out, _ = cli("--version")
    assert code == 0 and out.strip() == f"primordium {expected}"
